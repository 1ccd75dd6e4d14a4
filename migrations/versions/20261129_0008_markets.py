"""market features: cashtags, disclosures and visible edit history (issue #18)

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-29

comments gains `tickers` (the cashtags of the body, a JSON list), `disclosure` (the
author's positions, a JSON object) and `revision_count`; comment_tickers indexes the
cashtags for the ticker endpoints (one row per comment and symbol, with the comment's
created_at for the windows); comment_revisions keeps every earlier version of an edited
comment. Comments written before this revision have no tickers and no history: their
bodies are not re-read (docs/markets.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("tickers", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("disclosure", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("revision_count", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_table(
        "comment_tickers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_comment_tickers_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_tickers")),
        sa.UniqueConstraint(
            "symbol", "comment_id", name=op.f("uq_comment_tickers_symbol_comment_id")
        ),
    )
    with op.batch_alter_table("comment_tickers") as batch:
        batch.create_index(batch.f("ix_comment_tickers_comment_id"), ["comment_id"])
        batch.create_index(
            "ix_comment_tickers_symbol_created_at", ["symbol", "created_at"], unique=False
        )
        batch.create_index(
            "ix_comment_tickers_created_at_symbol", ["created_at", "symbol"], unique=False
        )
    op.create_table(
        "comment_revisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("disclosure", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_comment_revisions_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_revisions")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("comment_revisions") as batch:
        batch.create_index("ix_comment_revisions_comment_id_id", ["comment_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("comment_revisions")
    op.drop_table("comment_tickers")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("revision_count")
        batch.drop_column("disclosure")
        batch.drop_column("tickers")
