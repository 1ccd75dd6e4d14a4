"""a partial index for the moderators' queue

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

The queue (flagged, pending or hidden comments) and its total scanned the whole comments
table: 20-40 ms a request with 21,000 comments, growing with every comment. Only comments
that can be in the queue enter this index, and every queue query repeats its predicate
(service/models.py QUEUE_PREDICATE), so each reads a few rows however large the table is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# A copy, not an import: a migration must keep meaning what it meant when it was written.
QUEUE_PREDICATE = "flag_count > 0 OR status IN ('pending', 'hidden')"


def upgrade() -> None:
    op.create_index(
        "ix_comments_queue",
        "comments",
        ["flag_weight", "flag_count", "id"],
        unique=False,
        sqlite_where=sa.text(QUEUE_PREDICATE),
        postgresql_where=sa.text(QUEUE_PREDICATE),
    )


def downgrade() -> None:
    op.drop_index("ix_comments_queue", table_name="comments")
