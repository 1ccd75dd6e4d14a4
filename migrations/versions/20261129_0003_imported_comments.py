"""remember which source comments an import has written

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

`flask import FORMAT FILE` (service/importers/) must be safe to run twice and must add only
what is new when a newer export arrives. Each imported comment's id in its source system
(a Disqus post id, a WordPress comment id, ...) is kept here with the comment it became, so
a second run skips what it has seen and finds the parents of new replies. Deleting the
comment deletes the entry (a later import would bring it back: deleting and re-importing is
how an operator redoes one comment).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imported_comments",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_imported_comments_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source", "source_id", name=op.f("pk_imported_comments")),
    )
    with op.batch_alter_table("imported_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_imported_comments_comment_id"), ["comment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("imported_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_imported_comments_comment_id"))
    op.drop_table("imported_comments")
