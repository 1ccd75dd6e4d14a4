"""flask --app service <command>: operators' tools."""

from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from .config import masked
from .domain.tokens import hash_secret, new_api_key
from .extensions import db
from .models import ApiKey, utcnow

ROLES = ("moderator", "admin")


@click.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Upgrade the database to the newest schema."""
    from .migrate import upgrade

    upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
    click.echo("database is at the newest schema")


@click.command("create-api-key")
@with_appcontext
@click.option("--name", required=True, help="Who or what uses the key (unique).")
@click.option("--role", type=click.Choice(ROLES), default="moderator", show_default=True)
def create_api_key(name: str, role: str) -> None:
    """Create a service account key. It is shown once; only its hash is stored."""
    if db.session.execute(select(ApiKey).where(ApiKey.name == name)).scalar_one_or_none():
        raise click.ClickException(f"an API key named {name!r} exists; revoke it or pick another")
    key = new_api_key()
    db.session.add(ApiKey(name=name, role=role, key_hash=hash_secret(key), created_at=utcnow()))
    db.session.commit()
    click.echo(key)


@click.command("revoke-api-key")
@with_appcontext
@click.option("--name", required=True)
def revoke_api_key(name: str) -> None:
    """Revoke a service account key by name; requests with it get 401 from then on."""
    row = db.session.execute(select(ApiKey).where(ApiKey.name == name)).scalar_one_or_none()
    if row is None:
        raise click.ClickException(f"no API key named {name!r}")
    row.revoked_at = row.revoked_at or utcnow()
    row.name = f"{row.name}#revoked-{row.id}"  # frees the name for a replacement key
    db.session.commit()
    click.echo(f"revoked {name}")


@click.command("check-config")
@with_appcontext
def check_config() -> None:
    """Print the effective configuration, secrets masked."""
    click.echo(json.dumps(masked(current_app.config), indent=2, default=str))


def init_app(app: Flask) -> None:
    for command in (migrate_command, create_api_key, revoke_api_key, check_config):
        app.cli.add_command(command)
