"""The operators' workspace (issue 13): case notes, tasks, number search on the safe
contact, replies stored with their case, and what the board has shown.

Revision ID: 0009_workspace
Revises: 0008_job_names

Open tasks are created for the last 30 days' voicemails and callback requests and for
every follow-up call already due, so nothing waiting today drops off the board. Safe-contact
hashes of existing cases are filled by the ``cases.hash_safe_numbers`` job (a keyed hash
needs the application's key; migrations never import the application).
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0009_workspace"
down_revision = "0008_job_names"
branch_labels = None
depends_on = None

BACKFILL_DAYS = 30


def upgrade():
    op.create_table(
        "case_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["hotline_case.id"], name=op.f("fk_case_note_case_id_hotline_case")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fk_case_note_author_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_note")),
    )
    op.create_index(op.f("ix_case_note_case_id"), "case_note", ["case_id"])
    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("follow_up_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["hotline_case.id"], name=op.f("fk_task_case_id_hotline_case")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_task_contact_id_contact")
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_id"], ["follow_up.id"], name=op.f("fk_task_follow_up_id_follow_up")
        ),
        sa.ForeignKeyConstraint(
            ["done_by_id"], ["user_account.id"], name=op.f("fk_task_done_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
        sa.UniqueConstraint("key", name=op.f("uq_task_key")),
    )
    op.create_index("ix_task_status_created", "task", ["status", "created_at"])
    op.create_index(op.f("ix_task_case_id"), "task", ["case_id"])
    op.create_index(op.f("ix_task_contact_id"), "task", ["contact_id"])

    with op.batch_alter_table("hotline_case") as batch:
        batch.add_column(sa.Column("safe_hash", sa.String(length=64), nullable=True))
        batch.create_index(op.f("ix_hotline_case_safe_hash"), ["safe_hash"])
        batch.create_index("ix_hotline_case_created_id", ["created_at", "id"])
    with op.batch_alter_table("contact") as batch:
        batch.add_column(sa.Column("seen_message_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("message") as batch:
        batch.alter_column("contact_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sent_by_id", sa.Integer(), nullable=True))
        batch.create_index(op.f("ix_message_case_id"), ["case_id"])
        batch.create_foreign_key(
            op.f("fk_message_case_id_hotline_case"), "hotline_case", ["case_id"], ["id"]
        )
        batch.create_foreign_key(
            op.f("fk_message_sent_by_id_user_account"), "user_account", ["sent_by_id"], ["id"]
        )
    _backfill_tasks()


def _backfill_tasks():
    bind = op.get_bind()
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":  # stored without offset there (models.types)
        now = now.replace(tzinfo=None)
    since = now - timedelta(days=BACKFILL_DAYS)
    contact = sa.table(
        "contact",
        sa.column("id", sa.Integer),
        sa.column("recording_sid", sa.String),
        sa.column("recording_url", sa.Text),
        sa.column("callback_requested", sa.Boolean),
        sa.column("started_at", sa.DateTime(timezone=True)),
    )
    follow_up = sa.table(
        "follow_up",
        sa.column("id", sa.Integer),
        sa.column("case_id", sa.Integer),
        sa.column("status", sa.String),
    )
    task = sa.table(
        "task",
        sa.column("key", sa.String),
        sa.column("kind", sa.String),
        sa.column("status", sa.String),
        sa.column("case_id", sa.Integer),
        sa.column("contact_id", sa.Integer),
        sa.column("follow_up_id", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    rows = []
    for c in bind.execute(
        sa.select(contact.c.id, contact.c.recording_url, contact.c.callback_requested).where(
            contact.c.started_at >= since,
            sa.or_(contact.c.recording_url.is_not(None), contact.c.callback_requested),
        )
    ):
        if c.recording_url is not None:
            rows.append(dict(key=f"voicemail:contact:{c.id}", kind="voicemail", contact_id=c.id))
        if c.callback_requested:
            rows.append(dict(key=f"callback:contact:{c.id}", kind="callback", contact_id=c.id))
    for f in bind.execute(
        sa.select(follow_up.c.id, follow_up.c.case_id).where(follow_up.c.status == "due_call")
    ):
        rows.append(
            dict(
                key=f"follow_up_call:follow_up:{f.id}",
                kind="follow_up_call",
                case_id=f.case_id,
                follow_up_id=f.id,
            )
        )
    if rows:
        full = [
            {"case_id": None, "contact_id": None, "follow_up_id": None, **r} for r in rows
        ]
        op.bulk_insert(task, [{**r, "status": "open", "created_at": now} for r in full])


def downgrade():
    with op.batch_alter_table("message") as batch:
        batch.drop_constraint(op.f("fk_message_sent_by_id_user_account"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_message_case_id_hotline_case"), type_="foreignkey")
        batch.drop_index(op.f("ix_message_case_id"))
        batch.drop_column("sent_by_id")
        batch.drop_column("case_id")
    op.execute("DELETE FROM message WHERE contact_id IS NULL")
    with op.batch_alter_table("message") as batch:
        batch.alter_column("contact_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("contact") as batch:
        batch.drop_column("seen_message_id")
    with op.batch_alter_table("hotline_case") as batch:
        batch.drop_index("ix_hotline_case_created_id")
        batch.drop_index(op.f("ix_hotline_case_safe_hash"))
        batch.drop_column("safe_hash")
    op.drop_table("task")
    op.drop_table("case_note")
