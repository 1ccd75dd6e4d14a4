"""notifications, follows, mutes and readers' settings (#15)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

Readers learn when someone answers them: one row per notification (the excerpt and the
actor's name are read from the comment, never copied), the threads a reader follows, the
people a reader muted, and each reader's settings (the e-mail address from the token is
kept there only while instant e-mail is on). Partial indexes serve the unread count and
the e-mail job's queue without scanning every notification.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UNREAD_PREDICATE = "read_at IS NULL"
MAIL_DUE_PREDICATE = "mail_state = 'due'"
UNREAD_THREAD_PREDICATE = "read_at IS NULL AND kind = 'thread'"


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            _enum("notification_kind", "reply", "mention", "thread", "moderation"),
            nullable=False,
        ),
        sa.Column("article_id", sa.String(length=200), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("outcome", _enum("moderation_outcome", "approved", "removed"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_state", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_notifications_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_notifications_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_user_id_id", ["user_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_notifications_comment_id"), ["comment_id"], unique=False
        )
        batch_op.create_index(
            "ix_notifications_unread",
            ["user_id", "id"],
            unique=False,
            sqlite_where=sa.text(UNREAD_PREDICATE),
            postgresql_where=sa.text(UNREAD_PREDICATE),
        )
        batch_op.create_index(
            "ix_notifications_mail_due",
            ["user_id"],
            unique=False,
            sqlite_where=sa.text(MAIL_DUE_PREDICATE),
            postgresql_where=sa.text(MAIL_DUE_PREDICATE),
        )
        batch_op.create_index(
            "ix_notifications_unread_thread",
            ["article_id", "user_id"],
            unique=False,
            sqlite_where=sa.text(UNREAD_THREAD_PREDICATE),
            postgresql_where=sa.text(UNREAD_THREAD_PREDICATE),
        )

    op.create_table(
        "follows",
        sa.Column("article_id", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_follows_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "user_id", name=op.f("pk_follows")),
    )
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follows_user_id"), ["user_id"], unique=False)

    op.create_table(
        "mutes",
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("muted_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "muted_id", name=op.f("pk_mutes")),
    )
    with op.batch_alter_table("mutes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mutes_muted_id"), ["muted_id"], unique=False)

    op.create_table(
        "reader_settings",
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column(
            "email_mode",
            _enum("email_mode", "off", "instant"),
            server_default="off",
            nullable=False,
        ),
        sa.Column("follow_on_post", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("email_address", sa.String(length=320), nullable=True),
        sa.Column("last_emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_reader_settings")),
    )


def downgrade() -> None:
    op.drop_table("reader_settings")
    with op.batch_alter_table("mutes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mutes_muted_id"))
    op.drop_table("mutes")
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follows_user_id"))
    op.drop_table("follows")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_unread_thread")
        batch_op.drop_index("ix_notifications_mail_due")
        batch_op.drop_index("ix_notifications_unread")
        batch_op.drop_index(batch_op.f("ix_notifications_comment_id"))
        batch_op.drop_index("ix_notifications_user_id_id")
    op.drop_table("notifications")
