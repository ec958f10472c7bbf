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

    op.create_table(
        "webhook_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=60), nullable=False),
        sa.Column("response", models.types.EncryptedText(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_receipt")),
        sa.UniqueConstraint("provider", "key", name=op.f("uq_webhook_receipt_provider_key")),
    )
    with op.batch_alter_table("webhook_receipt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_receipt_created_at"), ["created_at"], unique=False
        )

    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_places", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("step_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "callback_requested_at", models.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("recording_sid", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("recording_seconds", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_column("recording_seconds")
        batch_op.drop_column("recording_sid")
        batch_op.drop_column("callback_requested_at")
        batch_op.drop_column("step_count")
        batch_op.drop_column("pending_places")
    with op.batch_alter_table("webhook_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_receipt_created_at"))
    op.drop_table("webhook_receipt")
    with op.batch_alter_table("dev_outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dev_outbox_message_created_at"))
    op.drop_table("dev_outbox_message")
