"""comments.guest_key: a keyed hash of a guest's IP, for guests' duplicate detection

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

A guest posting the same text twice within the duplicate window made two comments, as
nothing tied their posts together. The key is sha256(COMMENTS_SECRET_KEY | client IP), the
same keyed hash that already scopes guests' Idempotency-Keys; it never leaves the database
and is NULL for signed-in authors and for comments written before this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("guest_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("guest_key")
