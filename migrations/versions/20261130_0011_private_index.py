"""a partial index of the comments only their author sees

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

Every signed-in thread page asks whether the reader authors a comment of the article that
only they can see (pending, or written under a shadow ban). SQLite answered by walking the
article's whole thread in ix_comments_thread_hot (~0.3 ms for 2,500 comments, growing with
the thread). Only such comments enter this index, and the question repeats its predicate
(service/models.py PRIVATE_PREDICATE), so it is one seek however long the thread.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# A copy, not an import: a migration must keep meaning what it meant when it was written.
PRIVATE_PREDICATE = "status = 'pending' OR (status = 'published' AND shadowed = true)"


def upgrade() -> None:
    op.create_index(
        "ix_comments_private",
        "comments",
        ["author_id", "article_id"],
        unique=False,
        sqlite_where=sa.text(PRIVATE_PREDICATE),
        postgresql_where=sa.text(PRIVATE_PREDICATE),
    )


def downgrade() -> None:
    op.drop_index("ix_comments_private", table_name="comments")
