"""Surge mode (slow mode, timed premoderation, per-minute post counts) and the spam model

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

articles gains a moderator's slow mode (slow_mode_seconds, slow_mode_until), the automatic
surge's own pair (surge_slow_mode_seconds, surge_until) and premoderation_until.
article_post_counts counts posts per article and minute with an upsert (the surge trigger).
spam_model holds this deployment's learned weights (a raw float64 array, no pickle; no row
means the seed model trained from the shipped corpus); comment_spam each new comment's score
and the signals it was scored with. ix_comments_thread_hot covers what sort=hot ranks by.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


HOT_COLUMNS = [
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


def upgrade() -> None:
    # sort=hot: a covering index of everything its ranking reads (domain/threads.py).
    op.create_index("ix_comments_thread_hot", "comments", HOT_COLUMNS, unique=False)
    with op.batch_alter_table("articles") as batch:
        batch.add_column(
            sa.Column("slow_mode_seconds", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("slow_mode_until", UTC, nullable=True))
        batch.add_column(
            sa.Column("surge_slow_mode_seconds", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("surge_until", UTC, nullable=True))
        batch.add_column(sa.Column("premoderation_until", UTC, nullable=True))
    op.create_table(
        "article_post_counts",
        sa.Column("article_id", sa.String(length=200), nullable=False),
        sa.Column("minute", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_post_counts_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "minute", name=op.f("pk_article_post_counts")),
    )
    op.create_table(
        "spam_model",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("n_features", sa.Integer(), nullable=False),
        sa.Column("coef", sa.LargeBinary(), nullable=False),
        sa.Column("intercept", sa.Float(), nullable=False),
        sa.Column("steps", sa.Float(), nullable=False),
        sa.Column("decisions", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spam_model")),
    )
    op.create_table(
        "comment_spam",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("cashtags", sa.String(length=200), nullable=True),
        sa.Column("new_account", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_comment_spam_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_comment_spam")),
    )
    op.create_index(
        op.f("ix_comment_spam_created_at"), "comment_spam", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_comments_thread_hot", table_name="comments")
    op.drop_index(op.f("ix_comment_spam_created_at"), table_name="comment_spam")
    op.drop_table("comment_spam")
    op.drop_table("spam_model")
    op.drop_table("article_post_counts")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("premoderation_until")
        batch.drop_column("surge_until")
        batch.drop_column("surge_slow_mode_seconds")
        batch.drop_column("slow_mode_until")
        batch.drop_column("slow_mode_seconds")
