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
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert diff == [], diff


def plans_of(url: str, work, *, seqscan: bool = True) -> tuple[str, list[tuple[str, str]]]:
    """Migrate ``url`` up, run ``work(session)``, and return the dialect's name and
    (statement, plan) for each statement it sent, bound parameters included (a partial index
    that a bound value hides from the planner would go unused). ``seqscan=False``: on
    PostgreSQL, which index could answer (the tables are empty)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    upgrade(url)
    engine = create_engine(url)
    sent: list[tuple[str, object]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _capture(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    with Session(engine) as session:
        work(session)
    event.remove(engine, "before_cursor_execute", _capture)
    dialect = engine.dialect.name
    explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    plans = []
    with engine.connect() as conn:
        if dialect == "postgresql" and not seqscan:
            conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in sent:
            rows = conn.exec_driver_sql(explain + statement, parameters)
            plans.append((statement, " ".join(str(row) for row in rows)))
    engine.dispose()
    return dialect, plans


def test_no_queue_state_scans_every_comment(scratch_url):
    """Migration 0002: each state of the moderators' queue, and its total, finds its
    comments through the partial index ix_comments_queue (or, for one status, the status
    index) instead of scanning every comment. The statements are the ones the service sends."""
    from sqlalchemy import func, select

    from service.domain.moderation import QUEUE_STATES, queue_condition, queue_page
    from service.models import Comment

    def work(session):
        for state in QUEUE_STATES:
            queue_page(session, state=state, article_id=None, limit=20, after=None)
            session.scalar(select(func.count()).select_from(Comment).where(queue_condition(state)))

    dialect, plans = plans_of(scratch_url, work, seqscan=False)
    assert len(plans) == 2 * len(QUEUE_STATES)
    for statement, plan in plans:
        # the queue index, or a lookup by an indexed value (status = 'pending'), or the
        # partial index of pending and shadowed comments (PostgreSQL may read it whole for
        # status = 'pending': a few rows, like the queue's): never a walk over every comment
        looked_up = (
            "SEARCH comments USING INDEX" in plan if dialect == "sqlite" else ("Index Cond" in plan)
        )
        partial = "ix_comments_queue" in plan or "ix_comments_private" in plan
        assert partial or looked_up, (statement, plan)


def test_a_signed_in_page_asks_about_private_comments_with_one_seek(scratch_url):
    """Migration 0011: whether a signed-in reader has a comment only they can see in the
    thread (every signed-in page asks) is answered from the partial index
    ix_comments_private, not by walking the article's thread (SQLite used
    ix_comments_thread_hot: ~0.3 ms for 2,500 comments, growing with the thread).
    The statement checked is the one the service sends."""
    from service.domain.threads import Viewer, article_for_listing

    _, plans = plans_of(
        scratch_url,
        lambda session: article_for_listing(session, "a-1", Viewer(user_id="reader-1")),
        seqscan=False,
    )
    [(_, plan)] = plans
    assert "ix_comments_private" in plan, plan
    assert "ix_comments_thread" not in plan and "status_flag_weight" not in plan, plan


def test_telling_a_threads_followers_reads_each_table_once(scratch_url):
    """A new comment's followers less those already holding an unread thread notification:
    the notifications are read once (PostgreSQL: a hashed subplan; SQLite: a list), never
    once per follower. The correlated NOT EXISTS it replaced left that to the statistics: on
    a new PostgreSQL database (never ANALYZEd, like this one) it read every unread
    notification of the article for each follower, 48 ms a post at 500 followers."""
    from service.domain.notifications import _FOLLOWERS_TO_TELL

    def work(session):
        assert list(session.scalars(_FOLLOWERS_TO_TELL, {"article_id": "a-1"})) == []

    dialect, [(_, plan)] = plans_of(scratch_url, work)
    if dialect == "sqlite":
        assert "LIST SUBQUERY" in plan and "CORRELATED" not in plan, plan
    else:
        assert "hashed SubPlan" in plan and "Join" not in plan, plan
