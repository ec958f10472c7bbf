"""Schema changes for telephony (issue 4).

Revision ID: 0003_telephony
Revises: 0002_app_secrets
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import models.types  # noqa: F401

revision = "0003_telephony"
down_revision = "0002_app_secrets"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
