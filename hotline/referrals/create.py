"""Referring a case to a service point: the referral and its alert, in one transaction."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from hotline.jobs.outbox import add_work
from models import Alert, Case, Referral, ServicePoint, db
from models.types import utcnow

SEND_ALERT_JOB = "alerts.send"


def escalation_delay(risk: str) -> timedelta:
    """How long an alert waits for acknowledgement before escalating."""
    seconds = current_app.config["ALERT_ESCALATE_AFTER_SECONDS"]
    return timedelta(seconds=seconds / 3 if risk == "immediate" else seconds)


def refer(case: Case, point: ServicePoint, *, step: int, reason: str | None, **kw) -> Referral:
    """Refer the case to one point and queue its alert (in the current transaction)."""
    referral = Referral(
        case=case, service_point=point, step=step, urgency=case.risk, reason=reason, **kw
    )
    alert = Alert(
        referral=referral,
        service_point_id=point.id,
        kind="referral" if step == 0 else "escalation",
        to_phone=point.alert_phone,
        escalate_at=utcnow() + escalation_delay(case.risk),
    )
    db.session.add_all((referral, alert))
    db.session.flush()  # the alert's id, for the job
    add_work(
        SEND_ALERT_JOB,
        {"alert_id": alert.id},
        queue="alerts",
        dedupe_key=f"alert:{alert.id}",
        fresh=True,  # the alert was just created: nobody can have queued it yet
    )
    return referral
