"""Journal-first intake (issue 16): the inbound journal.

Revision ID: 0013_journal
Revises: 0012_accounts
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_journal"
down_revision = "0012_accounts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inbound_journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_sid", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=True),
        sa.Column("sender", sa.Text(), nullable=True),
        sa.Column("to_number", sa.String(length=32), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("media_count", sa.Integer(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.String(length=60), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_journal")),
        sa.UniqueConstraint(
            "provider", "provider_sid", name=op.f("uq_inbound_journal_provider_provider_sid")
        ),
    )
    op.create_index(
        "ix_inbound_journal_unprocessed",
        "inbound_journal",
        ["id"],
        postgresql_where=sa.text("processed_at IS NULL"),
        sqlite_where=sa.text("processed_at IS NULL"),
    )
    op.create_index("ix_inbound_journal_sender", "inbound_journal", ["sender_hash", "id"])


def downgrade():
    op.drop_index("ix_inbound_journal_sender", table_name="inbound_journal")
    op.drop_index("ix_inbound_journal_unprocessed", table_name="inbound_journal")
    op.drop_table("inbound_journal")
