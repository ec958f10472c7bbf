"""Schema changes for web, API and data protection (issue 6).

Revision ID: 0005_web
Revises: 0004_alerts
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import models.types  # noqa: F401

revision = "0005_web"
down_revision = "0004_alerts"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
