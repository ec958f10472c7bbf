"""Schema changes for alerts, escalation and follow-ups (issue 5).

Revision ID: 0004_alerts
Revises: 0003_telephony
"""

import sqlalchemy as sa
from alembic import op

import models.types

revision = "0004_alerts"
down_revision = "0003_telephony"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outbound_sms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("recipient", sa.String(length=60), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("body", models.types.EncryptedText(), nullable=True),
        sa.Column("first_claimed_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_until", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("provider_sid", sa.String(length=64), nullable=True),
        sa.Column("error_code", sa.String(length=20), nullable=True),
        sa.Column("sent_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["hotline_case.id"],
            name=op.f("fk_outbound_sms_case_id_hotline_case"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_sms")),
        sa.UniqueConstraint("key", name=op.f("uq_outbound_sms_key")),
        sa.UniqueConstraint("provider_sid", name=op.f("uq_outbound_sms_provider_sid")),
    )
    with op.batch_alter_table("outbound_sms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbound_sms_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outbound_sms_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outbound_sms_purpose"), ["purpose"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbound_sms_status"), ["status"], unique=False)

    with op.batch_alter_table("hotline_case", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "follow_ups_scheduled_at", models.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("commune_notified_at", models.types.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("outcome_reminded_at", models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "outcome_overdue_reported_at",
                models.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )

    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_follow_up_number_hash"), ["number_hash"], unique=False)


def downgrade():
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_up_number_hash"))
        batch_op.drop_column("number_hash")

    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_column("outcome_overdue_reported_at")
        batch_op.drop_column("outcome_reminded_at")

    with op.batch_alter_table("hotline_case", schema=None) as batch_op:
        batch_op.drop_column("commune_notified_at")
        batch_op.drop_column("follow_ups_scheduled_at")

    with op.batch_alter_table("outbound_sms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbound_sms_status"))
        batch_op.drop_index(batch_op.f("ix_outbound_sms_purpose"))
        batch_op.drop_index(batch_op.f("ix_outbound_sms_created_at"))
        batch_op.drop_index(batch_op.f("ix_outbound_sms_case_id"))
    op.drop_table("outbound_sms")
