"""sort=hot's floor: ix_comments_thread_hot with created_at right after pinned

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

The same columns as before, reordered so that the newest unpinned top-level comment of an
article is one index seek (MAX(created_at) under article_id, depth, pinned): sort=hot bounds
what it ranks with that time (domain/threads.py _hot_floor). Still covering everything the
ranking reads, so the ranking itself scans this index alone as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BEFORE = [
    "article_id",
    "depth",
    "pinned",
    "status",
    "shadowed",
    "reply_count",
    "created_at",
    "score",
    "author_id",
]
AFTER = [
    "article_id",
    "depth",
    "pinned",
    "created_at",
    "status",
    "shadowed",
    "reply_count",
    "score",
    "author_id",
]


def _refresh_sqlite_statistics() -> None:
    """A SQLite database that was ANALYZEd (PRAGMA optimize, bench/seed.py) has statistics
    for every index but this new one, which makes the planner think it is the most selective
    and scan it where ix_comments_thread_top or _newest answer with a seek: refresh them."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return  # PostgreSQL keeps no per-index statistics for plain columns
    analysed = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
    if bind.execute(sa.text(analysed)).first() is not None:
        op.execute("ANALYZE comments")


def upgrade() -> None:
    op.drop_index("ix_comments_thread_hot", table_name="comments")
    op.create_index("ix_comments_thread_hot", "comments", AFTER, unique=False)
    _refresh_sqlite_statistics()


def downgrade() -> None:
    op.drop_index("ix_comments_thread_hot", table_name="comments")
    op.create_index("ix_comments_thread_hot", "comments", BEFORE, unique=False)
    _refresh_sqlite_statistics()
