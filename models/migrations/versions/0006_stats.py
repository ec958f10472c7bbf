"""Schema changes for statistics and reporting (issue 7).

Revision ID: 0006_stats
Revises: 0005_web
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import models.types  # noqa: F401

revision = "0006_stats"
down_revision = "0005_web"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
