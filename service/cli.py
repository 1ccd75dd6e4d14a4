"""flask --app service <command>: operators' tools."""

from __future__ import annotations

import json
import sys
from typing import IO, Any, Iterator

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from . import services
from .banner import banner_text, base_url, wait_until_listening
from .config import masked
from .delivery import queue_depths
from .delivery.metrics import serve_worker_metrics
from .delivery.worker import Worker
from .domain.data import DataError, export_records, import_records, recount
from .domain.tokens import hash_secret, new_api_key
from .extensions import db
from .importers.cli import register as register_importers
from .migrate import upgrade
from .models import ApiKey, utcnow

ROLES = ("moderator", "admin")


@click.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Upgrade the database to the newest schema, and build the spam model's seed when the
    shipped corpus (or its recipe) changed since it was last built (service/spam/seed.py)."""
    upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"])
    click.echo("database is at the newest schema")
    from .spam import seed  # lazy: scikit-learn is imported only when the seed is trained

    _weights, trained = seed.ensure()
    click.echo(f"spam model seed {'trained into' if trained else 'up to date in'} {seed.ARTEFACT}")


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


@click.command("export")
@with_appcontext
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file instead of standard output.",
)
@click.option("--article", "article_id", help="Only this article's thread.")
def export_command(output: str | None, article_id: str | None) -> None:
    """Export articles, comments, reactions and flags as JSON Lines (a backup)."""
    handle: IO[str] = open(output, "w", encoding="utf-8") if output else sys.stdout
    lines = 0
    try:
        for record in export_records(db.session(), article_id=article_id):
            handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            lines += 1
    finally:
        if output:
            handle.close()
        db.session.rollback()
    if output:
        click.echo(f"exported {lines - 1} records to {output}", err=True)


def _records(handle: IO[str]) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"line {number}: not JSON ({exc.msg})") from None


@click.command("import")
@with_appcontext
@click.argument("source", type=click.File("r", encoding="utf-8"))
def import_command(source: IO[str]) -> None:
    """Import an export file (`-` for standard input). Ids are kept; rows already present
    are skipped, so importing twice changes nothing. Counters are rebuilt afterwards."""
    try:
        report = import_records(db.session(), _records(source))
        recount(db.session(), article_ids=report.articles, fix=True)
        db.session.commit()
    except DataError as exc:
        db.session.rollback()
        raise click.ClickException(f"nothing imported: {exc}") from None
    for name in sorted(set(report.added) | set(report.skipped)):
        click.echo(f"{name}: {report.added[name]} added, {report.skipped[name]} already present")


@click.command("recount")
@with_appcontext
@click.option(
    "--check", is_flag=True, help="Only report drift; exit with status 1 if any counter is wrong."
)
@click.option("--article", "article_id", help="Only this article's counters.")
def recount_command(check: bool, article_id: str | None) -> None:
    """Rebuild every denormalised counter from the rows it summarises; report drift."""
    drift = recount(db.session(), article_ids=[article_id] if article_id else None, fix=not check)
    for name, rows in drift.items():
        note = "" if not rows else (" (not fixed: --check)" if check else " (fixed)")
        click.echo(f"{name}: {rows} wrong{note}")
    if check:
        db.session.rollback()
        if any(drift.values()):
            raise click.exceptions.Exit(1)
    else:
        db.session.commit()


@click.command("banner")
@with_appcontext
@click.option(
    "--wait",
    "wait_seconds",
    type=float,
    default=0,
    help="First wait up to this many seconds for the server to answer /healthz.",
)
def banner_command(wait_seconds: float) -> None:
    """Print where the running service's pages are and how to call it (`make run` does)."""
    settings = services.of(current_app).settings
    base = base_url(settings.host, settings.port)
    if wait_seconds and not wait_until_listening(base, wait_seconds):
        click.echo(f"nothing answered {base}/healthz in {wait_seconds:g} s", err=True)
        raise click.exceptions.Exit(1)
    click.echo(banner_text(settings, listening=bool(wait_seconds)))


@click.command("worker")
@click.option("--once", is_flag=True, help="Run every job once, then exit (cron, tests).")
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve this worker's Prometheus metrics on this port (a worker in its own "
    "container; beside `python -m service.serve` the server's /metrics includes them).",
)
@click.option(
    "--exit-with-parent",
    is_flag=True,
    hidden=True,
    help="Stop when the process that started this one is gone (service/serve.py).",
)
@with_appcontext
def worker_command(once: bool, metrics_port: int | None, exit_with_parent: bool) -> None:
    """Deliver webhooks (and whatever else is queued for after the request) until SIGTERM or
    SIGINT. Run any number at once on PostgreSQL; one on SQLite."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if metrics_port is not None:

        def depths() -> dict[str, tuple[int, float]]:
            with app.app_context():
                return queue_depths()

        serve_worker_metrics(metrics_port, depths)
    worker = Worker(app, exit_with_parent=exit_with_parent)
    handled = worker.run(max_rounds=1 if once else None)
    if once:
        click.echo(f"handled {handled} items")


def init_app(app: Flask) -> None:
    for command in (
        migrate_command,
        create_api_key,
        revoke_api_key,
        check_config,
        export_command,
        recount_command,
        banner_command,
        worker_command,
    ):
        app.cli.add_command(command)
    # `flask import FORMAT FILE` (service/importers); `flask import FILE` stays our backups.
    register_importers(app, import_command)
