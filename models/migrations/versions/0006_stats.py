"""Schema changes for statistics and reporting (issue 7).

Revision ID: 0006_stats
Revises: 0005_web
"""

import sqlalchemy as sa
from alembic import op

import models.types

revision = "0006_stats"
down_revision = "0005_web"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stat_rollup",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tbl", sa.String(length=32), nullable=False),
        sa.Column("k1", sa.String(length=16), nullable=False),
        sa.Column("k2", sa.String(length=48), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "tbl", "k1", "k2", name=op.f("pk_stat_rollup")),
    )
    op.create_table(
        "stat_dirty_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_stat_dirty_day")),
    )
    op.create_table(
        "report_push",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=24), nullable=False),
        sa.Column("area", sa.String(length=8), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("trigger", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("next_attempt_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pushed_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_push")),
    )
    with op.batch_alter_table("report_push", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_push_idempotency_key"), ["idempotency_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_report_push_period"), ["period"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_push_status"), ["status"], unique=False)

    with op.batch_alter_table("hotline_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("perpetrator_prosecuted", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("perpetrator_counselled", sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table("hotline_case", schema=None) as batch_op:
        batch_op.drop_column("perpetrator_counselled")
        batch_op.drop_column("perpetrator_prosecuted")
    with op.batch_alter_table("report_push", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_push_status"))
        batch_op.drop_index(batch_op.f("ix_report_push_period"))
        batch_op.drop_index(batch_op.f("ix_report_push_idempotency_key"))
    op.drop_table("report_push")
    op.drop_table("stat_dirty_day")
    op.drop_table("stat_rollup")
