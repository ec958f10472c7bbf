"""Voice steps answered from the call's own row (issue 16): the last answer given to the
call, so a retried step gets it again without a webhook receipt.

Revision ID: 0016_voice_answers
Revises: 0015_suppression_patterns
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_voice_answers"
down_revision = "0015_suppression_patterns"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contact") as batch:
        batch.add_column(sa.Column("answer_key", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("answer", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("contact") as batch:
        batch.drop_column("answer")
        batch.drop_column("answer_key")
