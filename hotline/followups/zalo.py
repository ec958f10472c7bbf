"""Follow-ups on a case whose survivor wrote by Zalo (DESIGN.md section 14).

The case's safe written channel (``safe_contact.channel`` ``sms``, the only written one
the API knows) is, for a survivor who came by Zalo, their Zalo conversation: the check-in
goes there, with the same consent, safe hours and neutral text as an SMS one, but only
inside Zalo's 48-hour customer-service window after the user's last Zalo message.
Outside it the follow-up is **held**: nothing is sent and it becomes an operator task
(``follow_up_call``), as a follow-up by call does — a person decides whether to call or
text the safe number by hand, or to wait for the survivor to write again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from hotline.audit import record_event
from hotline.followups.schedule import delivery_mirror, follow_up_text
from hotline.jobs.delivery import send_once
from hotline.tasks import open_task
from hotline.telephony.zalo import api as zalo_api
from models import Case, Contact, FollowUp, Message, db

log = logging.getLogger(__name__)

#: Zalo lets an OA write to a user free of charge this long after the user's message.
ZALO_WINDOW = timedelta(hours=48)


def by_zalo(case: Case, contact: Contact | None) -> bool:
    """Whether this case's follow-ups go by Zalo."""
    return contact is not None and contact.channel == "zalo" and case.safe_channel == "sms"


def last_user_message(contact: Contact) -> datetime | None:
    return db.session.scalar(
        select(Message.created_at)
        .where(Message.contact_id == contact.id, Message.direction == "in")
        .order_by(Message.id.desc())
        .limit(1)
    )


def send_by_zalo(follow_up: FollowUp, case: Case, contact: Contact, now: datetime) -> str:
    """Send one follow-up on Zalo now (consent and safe hours already checked), or hold it."""
    if not contact.caller_number or zalo_api.is_opted_out(contact.caller_number):
        follow_up.status, follow_up.error_code = "cancelled", "opted-out"
        record_event("system", "follow_up.cancelled", "follow_up", follow_up.id)
        db.session.commit()
        return "cancelled"
    last = last_user_message(contact)
    if last is None or now - last >= ZALO_WINDOW:
        follow_up.channel, follow_up.status, follow_up.error_code = "call", "due_call", "zalo-wind"
        open_task(
            "follow_up_call",
            f"follow_up:{follow_up.id}",
            case_id=case.id,
            follow_up_id=follow_up.id,
        )
        record_event("system", "follow_up.held", "follow_up", follow_up.id, {"reason": "zalo"})
        db.session.commit()
        log.info("follow-up %s: outside the Zalo window, held for an operator", follow_up.id)
        return "held"

    follow_up.channel = "zalo"
    delivery = send_once(
        f"followup:{follow_up.id}",
        to=contact.caller_number,
        render=follow_up_text,
        purpose="follow_up",
        recipient="survivor",
        case_id=case.id,
        mirror=delivery_mirror(follow_up),
        send=zalo_api.send_message,
    )
    if delivery.new:
        record_event("system", f"follow_up.{follow_up.status}", "follow_up", follow_up.id)
        db.session.commit()
    return delivery.status
