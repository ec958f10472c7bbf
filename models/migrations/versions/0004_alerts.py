"""Schema changes for alerts, escalation and follow-ups (issue 5).

Revision ID: 0004_alerts
Revises: 0003_telephony
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import models.types  # noqa: F401

revision = "0004_alerts"
down_revision = "0003_telephony"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
