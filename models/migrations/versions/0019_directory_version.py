"""The directory's version in one row the database keeps current (issue 16).

Every webhook that may route reads the directory's version, to know whether its process's
in-memory copy of the directory is current. It was two aggregates over the active service
points (their count and latest change), read at every request: a scan that grows with the
directory, and blind to a change that leaves both alone. Now triggers on
``service_point`` move one counter on at every insert, update or delete (and on
PostgreSQL at a TRUNCATE), and the webhook reads that one row by its key. The counter is
written with an upsert, so a missing row comes back at the next change.

Revision ID: 0019_directory_version
Revises: 0018_contact_fillfactor
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_directory_version"
down_revision = "0018_contact_fillfactor"
branch_labels = None
depends_on = None

BUMP = (
    "INSERT INTO directory_version (id, version) VALUES (1, 1)"
    " ON CONFLICT (id) DO UPDATE SET version = directory_version.version + 1"
)

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION directory_changed() RETURNS trigger AS $$
BEGIN
  {BUMP};
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
POSTGRES_TRIGGERS = (
    "CREATE TRIGGER service_point_changed AFTER INSERT OR UPDATE OR DELETE ON service_point"
    " FOR EACH ROW EXECUTE FUNCTION directory_changed()",
    "CREATE TRIGGER service_point_truncated AFTER TRUNCATE ON service_point"
    " FOR EACH STATEMENT EXECUTE FUNCTION directory_changed()",
)
#: SQLite's triggers (row-level only there), by event. A later migration that rebuilds
#: ``service_point`` in batch mode on SQLite (copy, drop, rename) drops them: it must
#: create them again.
SQLITE_TRIGGERS = {
    "INSERT": "service_point_inserted",
    "UPDATE": "service_point_updated",
    "DELETE": "service_point_deleted",
}


def upgrade():
    op.create_table(
        "directory_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_version")),
    )
    op.execute("INSERT INTO directory_version (id, version) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        for trigger in POSTGRES_TRIGGERS:
            op.execute(trigger)
    else:
        for event, name in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON service_point BEGIN {BUMP}; END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS service_point_truncated ON service_point")
        op.execute("DROP TRIGGER IF EXISTS service_point_changed ON service_point")
        op.execute("DROP FUNCTION IF EXISTS directory_changed()")
    else:
        for name in SQLITE_TRIGGERS.values():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("directory_version")
