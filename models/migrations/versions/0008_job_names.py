"""Outbox rows name their job by registry name, not by dotted import path (issue 12).

Revision ID: 0008_job_names
Revises: 0007_sender_lock
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_job_names"
down_revision = "0007_sender_lock"
branch_labels = None
depends_on = None

#: Old dotted path → registry name (a copy: migrations never import the application).
NAMES = {
    "hotline.jobs.alerts.send_alert": "alerts.send",
    "hotline.jobs.alerts.notify_callback_request": "alerts.notify_callback",
    "hotline.jobs.alerts.notify_commune_committee": "alerts.notify_committee",
    "hotline.jobs.alerts.notify_escalation_exhausted": "alerts.notify_exhausted",
    "hotline.jobs.followups.send_follow_up": "followups.send",
    "hotline.jobs.reminders.send_outcome_reminder": "referrals.send_reminder",
    "hotline.telephony.jobs.place_question_timeout": "conversations.place_timeout",
    "hotline.reporting.push.retry_push": "reporting.retry_push",
    "hotline.jobs.system.heartbeat": "system.heartbeat",
}

outbox = sa.table("outbox_item", sa.column("job", sa.String))


def _rename(pairs) -> None:
    for old, new in pairs:
        op.execute(outbox.update().where(outbox.c.job == old).values(job=new))


def upgrade():
    _rename(NAMES.items())


def downgrade():
    _rename((new, old) for old, new in NAMES.items())
