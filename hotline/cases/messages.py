"""Writing to a survivor from the workspace (DESIGN.md section 11), and the SMS thread.

An operator may text a survivor only when the number has not opted out and either
(a) the survivor's own SMS conversation on this case had an inbound message within the
last 24 hours (the reply goes to that number), or (b) the survivor consented to
follow-up, chose SMS as the safe channel, and now is inside their safe hours (it goes to
the safe-contact number). Otherwise nothing is sent and the reason is given in words an
operator understands. The SMS goes through the outbox and the provider's REST client,
exactly once, with a delivery callback; its text is stored encrypted with the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from hotline.audit import record_event
from hotline.errors import ValidationError
from hotline.followups.schedule import next_safe_moment
from hotline.jobs import registry
from hotline.jobs.delivery import send_once
from hotline.jobs.outbox import add_work
from hotline.telephony.outbound import is_opted_out
from hotline.telephony.segments import segments
from hotline.telephony.zalo import api as zalo_api
from models import Case, Contact, Message, OutboundSms, User, db
from models.types import utcnow

SEND_REPLY_JOB = "cases.send_reply"
#: The survivor's own message opens a reply window this long.
REPLY_WINDOW = timedelta(hours=24)
#: On Zalo the window is the OA's customer-service window (DESIGN.md section 14).
ZALO_REPLY_WINDOW = timedelta(hours=48)
REPLY_WINDOWS = {"sms": REPLY_WINDOW, "zalo": ZALO_REPLY_WINDOW}
MAX_REPLY = 640

#: Why a reply is refused: the API's ``reason`` code and the words an operator reads.
REASONS = {
    "opted_out": _l(
        "This number asked for no more messages (STOP). Nothing can be sent until the "
        "survivor sends START."
    ),
    "no_consent": _l(
        "The survivor has not written in the last 24 hours and did not agree to be "
        "contacted. Wait for them to write again."
    ),
    "outside_safe_hours": _l(
        "It is outside the hours the survivor said are safe (%(hours)s). Try again then."
    ),
    "no_channel": _l(
        "The survivor has not written in the last 24 hours and did not choose SMS as a "
        "safe way to contact them."
    ),
}


#: The same reasons for a survivor who wrote by Zalo (its window is 48 hours).
ZALO_REASONS = {
    **REASONS,
    "opted_out": _l(
        "This Zalo user asked for no more messages (STOP) or unfollowed. Nothing can be "
        "sent until they send START."
    ),
    "no_consent": _l(
        "The survivor has not written on Zalo in the last 48 hours and did not agree to be "
        "contacted. Wait for them to write again."
    ),
    "no_channel": _l(
        "The survivor has not written on Zalo in the last 48 hours and did not choose SMS "
        "as a safe way to contact them."
    ),
}


class ReplyRefused(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class ReplyTarget:
    #: "conversation" (the number that wrote) or "safe_contact"
    kind: str
    contact: Contact | None
    #: Until when the conversation window stays open (kind "conversation").
    until: datetime | None = None


def _conversation(case: Case) -> Contact | None:
    contact = db.session.get(Contact, case.contact_id) if case.contact_id else None
    return contact if contact is not None and contact.channel in REPLY_WINDOWS else None


def _own_opted_out(contact: Contact) -> bool:
    if contact.channel == "zalo":
        return zalo_api.is_opted_out(contact.caller_number)
    return is_opted_out(contact.caller_number)


def _last_inbound(contact: Contact) -> datetime | None:
    return db.session.scalar(
        select(Message.created_at)
        .where(Message.contact_id == contact.id, Message.direction == "in")
        .order_by(Message.id.desc())
        .limit(1)
    )


def _refusal(reason: str, case: Case, contact: Contact | None = None) -> ReplyRefused:
    reasons = ZALO_REASONS if contact is not None and contact.channel == "zalo" else REASONS
    return ReplyRefused(reason, str(reasons[reason]) % {"hours": case.safe_hours or "—"})


def reply_target(case: Case, now: datetime | None = None) -> ReplyTarget:
    """Where a reply may go now; raises :class:`ReplyRefused` with the reason."""
    now = now or utcnow()
    contact = _conversation(case)
    own_opted_out = False
    if contact is not None and contact.caller_number:
        own_opted_out = _own_opted_out(contact)
        last = _last_inbound(contact)
        window = REPLY_WINDOWS[contact.channel]
        if last is not None and now - last < window and not own_opted_out:
            return ReplyTarget("conversation", contact, until=last + window)
    reason = _safe_contact_problem(case, now)
    if reason is None:
        return ReplyTarget("safe_contact", None)
    if own_opted_out:
        reason = "opted_out"
    raise _refusal(reason, case, contact)


def _safe_contact_problem(case: Case, now: datetime) -> str | None:
    if not case.consent_follow_up:
        return "no_consent"
    if case.safe_channel != "sms" or not case.safe_phone or case.purged_at is not None:
        return "no_channel"
    if is_opted_out(case.safe_phone):
        return "opted_out"
    if next_safe_moment(case, now) != now:
        return "outside_safe_hours"
    return None


def check_text(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValidationError({"text": [_("Write the message.")]})
    if len(text) > MAX_REPLY:
        raise ValidationError({"text": [_("A message is at most %(n)d characters.", n=MAX_REPLY)]})
    return text.strip()


def send_reply(case: Case, user: User, text: object) -> Message:
    """Queue an SMS to the survivor (in the caller's transaction; the caller commits).

    Raises :class:`ValidationError` for an unusable text and :class:`ReplyRefused` when
    the rules do not allow it now (nothing is queued).
    """
    body = check_text(text)
    target = reply_target(case)
    message = Message(
        contact_id=target.contact.id if target.contact else None,
        case_id=case.id,
        sent_by_id=user.id,
        direction="out",
        provider="outbox",
        body=body,
        segments=segments(body),
        status="pending",
    )
    db.session.add(message)
    db.session.flush()
    add_work(SEND_REPLY_JOB, {"message_id": message.id}, dedupe_key=f"reply:{message.id}")
    record_event(user, "case.message", "case", case.reference, {"to": target.kind})
    return message


def thread(case: Case) -> list[Message]:
    """The SMS thread with the survivor, oldest first: their conversation's messages and
    the replies sent from the workspace."""
    about = Message.case_id == case.id
    if (contact := _conversation(case)) is not None:
        about = or_(about, Message.contact_id == contact.id)
    return list(db.session.scalars(select(Message).where(about).order_by(Message.id)))


def mark_seen(case: Case) -> None:
    """An operator has seen the conversation's messages up to now (the board stops
    showing it for them)."""
    contact = _conversation(case)
    if contact is None:
        return
    last = db.session.scalar(
        select(Message.id)
        .where(Message.contact_id == contact.id, Message.direction == "in")
        .order_by(Message.id.desc())
        .limit(1)
    )
    if last is not None and (contact.seen_message_id or 0) < last:
        contact.seen_message_id = last


@registry.register(SEND_REPLY_JOB, retry=registry.SMS)
def deliver_reply(message_id: int) -> str:
    """Send one workspace reply exactly once. A reply to the safe-contact number is
    checked again (consent, opt-out, safe hours): a worker that was down must not send
    it at an unsafe time."""
    message = db.session.get(Message, message_id)
    if message is None or message.case_id is None:
        return "missing"
    if message.status != "pending":
        return message.status
    case = db.session.get(Case, message.case_id)
    send = None
    if message.contact_id is not None:
        contact = db.session.get(Contact, message.contact_id)
        to = contact.caller_number if contact else None
        language = contact.language if contact else "vi"
        if contact is not None and contact.channel == "zalo":
            send = zalo_api.send_message  # refuses a user who opted out
    else:
        to, language = case.safe_phone, "vi"
        if (problem := _safe_contact_problem(case, utcnow())) is not None:
            message.status, message.error_code = "failed", problem[:10]
            record_event(
                "system", "case.message_failed", "case", case.reference, {"code": problem}
            )
            db.session.commit()
            return "failed"

    def mirror(row: OutboundSms) -> None:
        message.provider_sid = row.provider_sid
        message.error_code = (row.error_code or "")[:10] or None
        if row.status == "sent":
            message.status = "sent" if message.status in ("pending", "sending") else message.status
        elif row.status == "failed":
            message.status = "failed"

    with force_locale(language if language in ("vi", "en") else "vi"):
        delivery = send_once(
            f"reply:{message.id}",
            to=to,
            render=lambda: message.body or "",
            purpose="reply",
            recipient="survivor",
            case_id=case.id,
            mirror=mirror,
            send=send,
        )
    return delivery.status
