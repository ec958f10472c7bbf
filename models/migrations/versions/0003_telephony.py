"""Schema changes for telephony (issue 4).

Revision ID: 0003_telephony
Revises: 0002_app_secrets
"""

import sqlalchemy as sa
from alembic import op

import models.types

revision = "0003_telephony"
down_revision = "0002_app_secrets"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dev_outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("to", models.types.EncryptedText(), nullable=False),
        sa.Column("body", models.types.EncryptedText(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_outbox_message")),
        sa.UniqueConstraint("sid", name=op.f("uq_dev_outbox_message_sid")),
    )
    with op.batch_alter_table("dev_outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dev_outbox_message_created_at"), ["created_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("dev_outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dev_outbox_message_created_at"))
    op.drop_table("dev_outbox_message")
