"""Voice: answering every call (issue 15): operator availability, the counsellor request
that the hotline metrics start from, hold, transfers, and the calls the service starts.

Revision ID: 0011_voice
Revises: 0010_referral_loop

Operators start ``available``; existing calls keep ``counsellor_requested_at`` empty, so
the statistics measure them from the start of the call as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_voice"
down_revision = "0010_referral_loop"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(
            sa.Column(
                "availability",
                sa.String(length=10),
                nullable=False,
                server_default="available",
            )
        )
        batch.add_column(
            sa.Column("availability_changed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("on_call_sid", sa.String(length=64), nullable=True))
    with op.batch_alter_table("contact") as batch:
        batch.add_column(
            sa.Column("counsellor_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("operator_call_sid", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("conference", sa.String(length=64), nullable=True))
    op.create_table(
        "call_leg",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("service_point_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=5), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_call_leg_contact_id_contact")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_call_leg_user_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["service_point_id"],
            ["service_point.id"],
            name=op.f("fk_call_leg_service_point_id_service_point"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"], name=op.f("fk_call_leg_referral_id_referral")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_leg")),
        sa.UniqueConstraint("provider", "sid", name=op.f("uq_call_leg_provider_sid")),
    )
    op.create_index(op.f("ix_call_leg_contact_id"), "call_leg", ["contact_id"])


def downgrade():
    op.drop_index(op.f("ix_call_leg_contact_id"), table_name="call_leg")
    op.drop_table("call_leg")
    with op.batch_alter_table("contact") as batch:
        batch.drop_column("conference")
        batch.drop_column("operator_call_sid")
        batch.drop_column("queued_at")
        batch.drop_column("counsellor_requested_at")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("on_call_sid")
        batch.drop_column("availability_changed_at")
        batch.drop_column("availability")
