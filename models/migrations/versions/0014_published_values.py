"""Numbers already pushed to the reporting system, held fixed by joint suppression
(issue 19): the months, half-years and year of a year are suppressed together, and a
cell pushed earlier is treated as known to anyone.

Revision ID: 0014_published_values
Revises: 0013_journal

Pushes made before this migration were not recorded cell by cell; re-push a period
(``flask --app app report push --period …``) to have its numbers held fixed.
"""

import sqlalchemy as sa
from alembic import op

import models.types

revision = "0014_published_values"
down_revision = "0013_journal"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stat_published_value",
        sa.Column("period", sa.String(length=24), nullable=False),
        sa.Column("cell", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("published_value", sa.BigInteger(), nullable=True),
        sa.Column("first_pushed_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("pushed_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("period", "cell", name=op.f("pk_stat_published_value")),
    )
    with op.batch_alter_table("stat_published_value", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stat_published_value_year"), ["year"], unique=False)


def downgrade():
    with op.batch_alter_table("stat_published_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stat_published_value_year"))
    op.drop_table("stat_published_value")
