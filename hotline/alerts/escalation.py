"""Escalation along the routing decision's fallback chain: an alert nobody acknowledged in
time (or that the carrier could not deliver) moves the case to the next point.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update

from hotline.audit import record_event
from hotline.jobs import registry
from hotline.referrals.chain import is_parallel, move_on
from models import (
    Alert,
    Referral,
    db,
)
from models.types import utcnow

log = logging.getLogger(__name__)


# --- escalation ---------------------------------------------------------------------------


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
    if is_parallel(referral):
        # The police (or another parallel referral) did not answer: recorded; the chain
        # of the case is not driven by it.
        record_event(
            "system",
            "referral.unacknowledged",
            "case",
            case.reference,
            {"point": point.code, "alert": alert.id},
        )
        db.session.commit()
        return True
    chain_referrals = [r for r in case.referrals if not is_parallel(r)]
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
    referral.status = "expired"
    referral.ended_at = now
    new = move_on(case, referral, "expired")
    record_event(
        "system",
        "case.escalate",
        "case",
        case.reference,
        {
            "from": point.code,
            "to": new.service_point.code if new else None,
            "step": new.step if new else None,
            "referral": new.id if new else None,
        },
    )
    db.session.commit()
    if new is None:
        log.warning("case %s: escalation chain exhausted", case.id)
    else:
        log.info("alert %s escalated to referral %s", alert.id, new.id)
    return True


registry.add("alerts.escalate_due", check_escalations)
