"""The schema comes from the migrations: up, down, up again, and the models agree."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from service.migrate import downgrade, upgrade
from service.models import Base


@pytest.fixture
def scratch_url(tmp_path):
    """A database of its own: a SQLite file, or a fresh schema-less PostgreSQL database."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"migrations_{os.getpid()}"
    admin = create_engine(base.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield base.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    names = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    return names


def test_upgrade_downgrade_upgrade(scratch_url):
    upgrade(scratch_url)
    assert _tables(scratch_url) == set(Base.metadata.tables)
    downgrade(scratch_url, "base")
    assert _tables(scratch_url) == set()
    upgrade(scratch_url)
    assert _tables(scratch_url) == set(Base.metadata.tables)


def test_models_and_migrations_agree(scratch_url):
    upgrade(scratch_url)
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    engine.dispose()
    assert diff == [], diff


def test_the_flagged_queue_reads_only_flagged_comments(scratch_url):
    """Migration 0002: the moderators' default queue and its total find flagged comments
    through the partial index ix_comments_flagged instead of scanning every comment."""
    from sqlalchemy import func, select

    from service.domain.moderation import queue_condition, queue_query
    from service.models import Comment

    upgrade(scratch_url)
    engine = create_engine(scratch_url)
    page = queue_query(state="flagged", article_id=None, limit=20, after=None)
    total = select(func.count()).select_from(Comment).where(queue_condition("flagged"))
    with engine.connect() as conn:
        for query in (page, total):
            sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
            if engine.dialect.name == "sqlite":
                plan = " ".join(str(row) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
            else:  # an empty table: make the planner show which index it can use at all
                conn.execute(text("SET enable_seqscan = off"))
                plan = " ".join(str(row) for row in conn.execute(text(f"EXPLAIN {sql}")))
            assert "ix_comments_flagged" in plan, plan
    engine.dispose()
