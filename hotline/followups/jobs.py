"""The follow-up job: a neutral check-in SMS, only when every safety condition holds."""

from __future__ import annotations

import logging

from flask_babel import force_locale

from hotline.audit import record_event
from hotline.followups.schedule import (
    SEND_JOB,
    delivery_mirror,
    follow_up_text,
    next_safe_moment,
)
from hotline.followups.zalo import by_zalo, send_by_zalo
from hotline.jobs import registry
from hotline.jobs.delivery import send_once
from hotline.jobs.outbox import add_work
from hotline.tasks import open_task
from hotline.telephony.outbound import is_opted_out
from models import Case, Contact, FollowUp, db
from models.types import utcnow

log = logging.getLogger(__name__)


def _close(follow_up: FollowUp, status: str, reason: str) -> str:
    follow_up.status = status
    follow_up.error_code = reason[:10]
    record_event("system", f"follow_up.{status}", "follow_up", follow_up.id, {"reason": reason})
    db.session.commit()
    log.info("follow-up %s: %s (%s)", follow_up.id, status, reason)
    return status


@registry.register(SEND_JOB, retry=registry.SMS)
def send_follow_up(follow_up_id: int) -> str:
    """Send one follow-up if it is still wanted and safe now; otherwise wait for the next
    safe window, hand it to an operator (call channel), or cancel it."""
    follow_up = db.session.get(FollowUp, follow_up_id)
    if follow_up is None or follow_up.status != "scheduled":
        return follow_up.status if follow_up else "missing"

    case = db.session.get(Case, follow_up.case_id)
    if not case.consent_follow_up or case.safe_channel not in ("sms", "call"):
        return _close(follow_up, "cancelled", "no-consent")
    if case.purged_at is not None or not case.safe_phone:
        return _close(follow_up, "cancelled", "no-phone")
    if is_opted_out(case.safe_phone):
        return _close(follow_up, "cancelled", "opted-out")

    now = utcnow()
    moment = next_safe_moment(case, now)
    if moment is None:
        return _close(follow_up, "cancelled", "no-hours")
    if moment > now:
        # Outside the safe hours: wait for the next window (a new, due-dated outbox row).
        follow_up.due_at = moment
        add_work(
            SEND_JOB,
            {"follow_up_id": follow_up.id},
            dedupe_key=f"followup:{follow_up.id}:{moment:%Y%m%dT%H%M}",
            available_at=moment,
        )
        record_event(
            "system", "follow_up.wait", "follow_up", follow_up.id, {"until": moment.isoformat()}
        )
        db.session.commit()
        log.info("follow-up %s: outside safe hours, waits", follow_up.id)
        return "waiting"

    contact = db.session.get(Contact, case.contact_id) if case.contact_id else None
    if by_zalo(case, contact):
        with force_locale(contact.language if contact.language in ("vi", "en") else "vi"):
            return send_by_zalo(follow_up, case, contact, now)

    if case.safe_channel == "call":
        # Calls are made by people: it becomes a task on the operators' board.
        follow_up.channel = "call"
        follow_up.status = "due_call"
        open_task(
            "follow_up_call",
            f"follow_up:{follow_up.id}",
            case_id=case.id,
            follow_up_id=follow_up.id,
        )
        record_event("system", "follow_up.due_call", "follow_up", follow_up.id)
        db.session.commit()
        return "due_call"

    lang = contact.language if contact and contact.language in ("vi", "en") else "vi"
    with force_locale(lang):
        delivery = send_once(
            f"followup:{follow_up.id}",
            to=case.safe_phone,
            render=follow_up_text,
            purpose="follow_up",
            recipient="survivor",
            case_id=case.id,
            mirror=delivery_mirror(follow_up),
        )
    if delivery.new:
        record_event(
            "system",
            f"follow_up.{follow_up.status}",
            "follow_up",
            follow_up.id,
            {"code": delivery.error_code} if delivery.error_code else None,
        )
        db.session.commit()
    return delivery.status
