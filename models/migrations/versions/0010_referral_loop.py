"""Closing the referral loop (issue 14): decline reasons, acceptance and outcome codes,
beds held by accepted shelter referrals, live beds, a neutral SMS name per point.

Revision ID: 0010_referral_loop
Revises: 0009_workspace
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_referral_loop"
down_revision = "0009_workspace"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("referral") as batch:
        batch.add_column(sa.Column("decline_code", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(length=30), nullable=True))
        batch.add_column(
            sa.Column("holds_bed", sa.Boolean(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("service_point") as batch:
        batch.add_column(
            sa.Column("beds_updated_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("sms_name", sa.String(length=100), nullable=True))
    # Declines recorded before reasons were coded keep their words, with code "other";
    # outcomes recorded with services count as "service_received" (the others stay
    # uncoded: what happened is not known).
    referral = sa.table(
        "referral",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("decline_code", sa.String),
        sa.column("outcome", sa.String),
        sa.column("services_received", sa.JSON),
        sa.column("outcome_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        referral.update().where(referral.c.status == "declined").values(decline_code="other")
    )
    bind = op.get_bind()
    done = bind.execute(
        sa.select(referral.c.id, referral.c.services_received).where(
            referral.c.outcome_at.is_not(None)
        )
    ).all()
    for row in done:
        if row.services_received:
            op.execute(
                referral.update()
                .where(referral.c.id == row.id)
                .values(outcome="service_received")
            )


def downgrade():
    with op.batch_alter_table("service_point") as batch:
        batch.drop_column("sms_name")
        batch.drop_column("beds_updated_at")
    with op.batch_alter_table("referral") as batch:
        batch.drop_column("holds_bed")
        batch.drop_column("outcome")
        batch.drop_column("ended_at")
        batch.drop_column("accepted_at")
        batch.drop_column("decline_code")
