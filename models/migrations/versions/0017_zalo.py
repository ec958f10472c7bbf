"""The Zalo Official Account channel: its API tokens, kept encrypted (issue 18).

Revision ID: 0017_zalo
Revises: 0016_voice_answers
"""

import sqlalchemy as sa
from alembic import op

import models.types

revision = "0017_zalo"
down_revision = "0016_voice_answers"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "zalo_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("access_token", models.types.EncryptedText(), nullable=False),
        sa.Column("refresh_token", models.types.EncryptedText(), nullable=True),
        sa.Column("expires_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("refreshing_until", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refreshed_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zalo_token")),
    )


def downgrade():
    op.drop_table("zalo_token")
