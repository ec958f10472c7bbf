"""Reminders about referrals acknowledged but left without an outcome.

After ``OUTCOME_REMINDER_DAYS`` (3) the service point is reminded; after
``OUTCOME_OVERDUE_DAYS`` (7) the provincial centre is told. Each once per referral.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.audit import record_event
from hotline.directory.lookup import provincial_centre
from hotline.jobs import registry
from hotline.jobs.delivery import send_once
from hotline.jobs.outbox import add_work
from models import Referral, db
from models.types import utcnow

log = logging.getLogger(__name__)

SEND_JOB = "referrals.send_reminder"
OPEN_STATUSES = ("acknowledged", "accepted")


def check_outcome_reminders(now: datetime | None = None, limit: int = 200) -> int:
    """Queue the reminders that came due (periodic)."""
    now = now or utcnow()
    cfg = current_app.config
    queued = 0
    for kind, days, column in (
        ("point", cfg["OUTCOME_REMINDER_DAYS"], Referral.outcome_reminded_at),
        ("centre", cfg["OUTCOME_OVERDUE_DAYS"], Referral.outcome_overdue_reported_at),
    ):
        referrals = list(
            db.session.scalars(
                select(Referral)
                .where(
                    Referral.acknowledged_at <= now - timedelta(days=days),
                    Referral.outcome_at.is_(None),
                    Referral.status.in_(OPEN_STATUSES),
                    column.is_(None),
                )
                .order_by(Referral.id)
                .limit(limit)
            )
        )
        for referral in referrals:
            setattr(referral, column.key, now)
            add_work(
                SEND_JOB,
                {"referral_id": referral.id, "kind": kind},
                dedupe_key=f"reminder:{referral.id}:{kind}",
            )
            record_event(
                "system",
                "referral.reminder" if kind == "point" else "referral.overdue",
                "referral",
                referral.id,
                {"case": referral.case.reference, "days": days},
            )
            queued += 1
        db.session.commit()
    return queued


@registry.register(SEND_JOB, retry=registry.SMS)
def send_outcome_reminder(referral_id: int, kind: str) -> str:
    """Remind the point (``kind="point"``) or tell the provincial centre (``"centre"``)."""
    referral = db.session.get(Referral, referral_id)
    if referral is None:
        return "missing"
    if referral.outcome_at is not None or referral.status not in OPEN_STATUSES:
        return "not-needed"
    cfg = current_app.config
    reference = referral.case.reference
    point = referral.service_point
    if kind == "point":
        target = point
        render = lambda: _(  # noqa: E731
            "Reminder: case %(reference)s was acknowledged %(days)d days ago; please "
            "record the outcome in the inbox.",
            reference=reference,
            days=cfg["OUTCOME_REMINDER_DAYS"],
        )
    else:
        target = provincial_centre()
        render = lambda: _(  # noqa: E731
            "Case %(reference)s: acknowledged by %(point)s %(days)d days ago, no outcome "
            "recorded yet.",
            reference=reference,
            point=point.name,
            days=cfg["OUTCOME_OVERDUE_DAYS"],
        )
    if target is None:
        log.warning("referral %s: no provincial centre to tell", referral_id)
        return "skipped"
    with force_locale("vi"):
        delivery = send_once(
            f"reminder:{referral.id}:{kind}",
            to=target.alert_phone,
            render=render,
            purpose="reminder",
            recipient=f"service_point:{target.id}",
            case_id=referral.case_id,
        )
    return delivery.status


registry.add("referrals.check_reminders", check_outcome_reminders)
