"""A per-sender lock table for inbound SMS (issue 8: two messages at once from one number).

Revision ID: 0007_sender_lock
Revises: 0006_stats
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_sender_lock"
down_revision = "0006_stats"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sender_lock",
        sa.Column("number_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("number_hash", name=op.f("pk_sender_lock")),
    )


def downgrade():
    op.drop_table("sender_lock")
