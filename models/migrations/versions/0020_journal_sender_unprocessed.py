"""A sender's unprocessed journal entries in an index of their own (issue 16).

Every SMS webhook reads the sender's latest unprocessed entry (its conversation state), and
the worker reads a sender's unprocessed entries before it processes one. PostgreSQL
answered that from two indexes at once, the sender's entries and every unprocessed entry,
whenever its statistics said the unprocessed ones were few: true while the worker keeps
up, false in a flood, when thousands wait and autovacuum has not yet analysed the table.
Each webhook then read them all (0.4 ms for 1 760 in the benchmark), the more the longer the
flood lasted. This index holds exactly what those reads ask for, so the planner takes it
and the read stays one probe.

Revision ID: 0020_journal_sender_unprocessed
Revises: 0019_directory_version
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_journal_sender_unprocessed"
down_revision = "0019_directory_version"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_inbound_journal_sender_unprocessed",
        "inbound_journal",
        ["sender_hash", "id"],
        postgresql_where=sa.text("processed_at IS NULL"),
        sqlite_where=sa.text("processed_at IS NULL"),
    )


def downgrade():
    op.drop_index("ix_inbound_journal_sender_unprocessed", table_name="inbound_journal")
