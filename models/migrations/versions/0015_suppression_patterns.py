"""Solved joint-suppression patterns shared by every process (issue 19).

Revision ID: 0015_suppression_patterns
Revises: 0014_published_values
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_suppression_patterns"
down_revision = "0014_published_values"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stat_suppression_pattern",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("hidden", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_stat_suppression_pattern")),
    )
    op.create_index(
        op.f("ix_stat_suppression_pattern_year"), "stat_suppression_pattern", ["year"]
    )


def downgrade():
    op.drop_index(op.f("ix_stat_suppression_pattern_year"), table_name="stat_suppression_pattern")
    op.drop_table("stat_suppression_pattern")
