"""Room in each page of ``contact`` for a call's row to be updated in place (issue 16).

A call's row is written at every step of its menus, with the answer given. With full pages
PostgreSQL must put each new version of the row on another page and update every index of
the table; with a quarter of each page kept free the update stays on its page and touches
no index (a "HOT" update). SQLite has no such setting.

Revision ID: 0018_contact_fillfactor
Revises: 0017_zalo
"""

from alembic import op

revision = "0018_contact_fillfactor"
down_revision = "0017_zalo"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE contact SET (fillfactor = 75)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE contact RESET (fillfactor)")
