"""Escalation along the routing decision's fallback chain: an alert nobody acknowledged in
time (or that the carrier could not deliver) moves the case to the next point.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update

from hotline.audit import record_event
from hotline.directory.lookup import provincial_centre
from hotline.jobs import registry
from hotline.jobs.outbox import add_work
from hotline.referrals.create import refer
from hotline.tasks import open_task
from models import (
    Alert,
    Case,
    Referral,
    ServicePoint,
    db,
)
from models.types import utcnow

log = logging.getLogger(__name__)


NOTIFY_EXHAUSTED_JOB = "alerts.notify_exhausted"


# --- escalation ---------------------------------------------------------------------------


def is_police_referral(referral: Referral) -> bool:
    """The parallel alert to the police in immediate danger; it does not drive the chain."""
    routing = referral.case.routing or {}
    code = referral.service_point.code
    return code == routing.get("police") and code not in routing.get("chain", [])


def next_point(case: Case) -> ServicePoint | None:
    """The next point of the routing decision's fallback chain not yet alerted, then the
    provincial centre; None when every one has been."""
    referred = {r.service_point.code for r in case.referrals}
    for code in (case.routing or {}).get("chain", []):
        if code in referred:
            continue
        point = db.session.scalar(
            select(ServicePoint).where(ServicePoint.code == code, ServicePoint.active)
        )
        if point is not None:
            return point
    return provincial_centre(exclude=referred)


def alert_not_delivered(alert: Alert, code: str) -> None:
    """An alert that will not reach its point (the provider refused it, retries ran out,
    or the carrier reported it undelivered): flag it for administrators and move the
    chain on at once, since an unreachable point must not hold the case until the
    deadline. In the caller's transaction."""
    alert.error_code = (code or alert.error_code or "failed")[:10]
    referral = alert.referral
    if referral.acknowledged_at is None and alert.escalated_at is None:
        now = utcnow()
        if alert.escalate_at is None or alert.escalate_at > now:
            alert.escalate_at = now
    record_event(
        "system",
        "alert.failed",
        "alert",
        alert.id,
        {"code": alert.error_code, "case": referral.case.reference, "referral": referral.id},
    )


def check_escalations(now: datetime | None = None, limit: int = 100) -> int:
    """Escalate every alert past its deadline whose referral nobody acknowledged."""
    now = now or utcnow()
    due = list(
        db.session.scalars(
            select(Alert.id)
            .join(Referral, Alert.referral_id == Referral.id)
            .where(
                Alert.escalate_at <= now,
                Alert.escalated_at.is_(None),
                Referral.acknowledged_at.is_(None),
            )
            .order_by(Alert.escalate_at)
            .limit(limit)
        )
    )
    db.session.rollback()
    done = 0
    for alert_id in due:
        if escalate(alert_id, now):
            done += 1
    return done


def escalate(alert_id: int, now: datetime | None = None) -> bool:
    """Take one overdue alert to the next step, in one transaction; False when another
    run or an acknowledgement got there first."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(Alert)
        .where(
            Alert.id == alert_id,
            Alert.escalated_at.is_(None),
            Alert.escalate_at.is_not(None),
            Alert.escalate_at <= now,
        )
        .values(escalated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        return False
    alert = db.session.get(Alert, alert_id)
    referral = alert.referral
    case = referral.case
    if referral.acknowledged_at is not None:
        db.session.rollback()
        return False
    point = referral.service_point
    if is_police_referral(referral):
        record_event(
            "system",
            "referral.unacknowledged",
            "case",
            case.reference,
            {"point": point.code, "alert": alert.id},
        )
        db.session.commit()
        return True
    chain_referrals = [r for r in case.referrals if not is_police_referral(r)]
    if any(r.acknowledged_at is not None for r in chain_referrals):
        record_event(
            "system",
            "case.escalation_stopped",
            "case",
            case.reference,
            {"point": point.code, "alert": alert.id},
        )
        db.session.commit()
        return True
    target = next_point(case)
    if target is None:
        record_event(
            "system",
            "case.escalation_exhausted",
            "case",
            case.reference,
            {"point": point.code, "alert": alert.id},
        )
        open_task("referral_declined", f"case:{case.id}", case_id=case.id)
        add_work(
            NOTIFY_EXHAUSTED_JOB,
            {"case_id": case.id},
            queue="alerts",
            dedupe_key=f"exhausted:{case.id}",
        )
        db.session.commit()
        log.warning("case %s: escalation chain exhausted", case.id)
        return True
    step = max(r.step for r in case.referrals) + 1
    new = refer(
        case,
        target,
        step=step,
        reason=f"escalation: {point.code} did not acknowledge in time",
    )
    record_event(
        "system",
        "case.escalate",
        "case",
        case.reference,
        {"from": point.code, "to": target.code, "step": step, "referral": new.id},
    )
    db.session.commit()
    log.info("alert %s escalated to referral %s", alert.id, new.id)
    return True


registry.add("alerts.escalate_due", check_escalations)
