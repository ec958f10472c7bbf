"""The call centre behind the IVR (DESIGN.md section 13): who is rung, who waits, who is
offered the longest-waiting caller, and transfers to a service point's duty phone.

The voice steps decide from the database alone; anything that needs the provider's REST
API (calling an operator back for a waiting caller, bringing a service point into a
conference, taking the operator out of it) is queued through the outbox as a job named
here, so a webhook never waits on the network and a provider outage only delays it.

Operator availability: ``available`` (rung), ``busy`` (set by hand, or automatically
while on a hotline call and back to ``available`` after), ``away``. Only on-duty,
available operators are rung or offered a caller.
"""

from __future__ import annotations

import logging

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from hotline.accounts.duty import on_duty_operators, set_availability
from hotline.audit import record_event
from hotline.errors import ValidationError
from hotline.jobs import registry
from hotline.jobs.outbox import add_work
from hotline.referrals.create import record_transfer
from hotline.tasks import open_task
from hotline.telephony import outbound
from models import CallLeg, Case, Contact, ServicePoint, User, db
from models.types import utcnow

log = logging.getLogger(__name__)

#: The one hold queue of the hotline (the provider serves it longest-waiting first).
QUEUE = "hotline18001769"
OFFER_JOB = "voice.offer"
TRANSFER_JOB = "voice.transfer"
LEAVE_JOB = "voice.leave_conference"
TRANSFER_MODES = ("warm", "cold")
OFFER_RING_SECONDS = 20
TRANSFER_RING_SECONDS = 25
#: Call statuses that end a call the service started.
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


class NotTheOperatorsCall(LookupError):
    """No live call with this id was answered by this operator."""


# --------------------------------------------------------------------------------------------
# Who is rung, who waits


def ringable(user: User) -> bool:
    return bool(
        user.role == "operator"
        and user.active
        and user.on_duty
        and user.phone
        and user.availability == "available"
    )


def phones_to_ring(exclude: str | None, limit: int) -> list[str]:
    """Phones of the on-duty, available operators, each once."""
    out: list[str] = []
    for user in on_duty_operators():
        if ringable(user) and user.phone != exclude and user.phone not in out:
            out.append(user.phone)  # type: ignore[arg-type]
    return out[:limit]


def someone_will_be_free() -> bool:
    """Whether an on-duty operator is only busy (on a call or by hand), so waiting helps."""
    return any(u.availability == "busy" for u in on_duty_operators())


def waiting_calls():
    """Callers on hold now, longest-waiting first."""
    return (
        select(Contact)
        .where(
            Contact.channel == "voice",
            Contact.ivr_step == "queued",
            Contact.queued_at.is_not(None),
            Contact.answered_at.is_(None),
            Contact.ended_at.is_(None),
        )
        .order_by(Contact.queued_at, Contact.id)
    )


def position(contact: Contact) -> int:
    """The caller's place in line (1 = next)."""
    rows = db.session.scalars(waiting_calls()).all()
    for n, row in enumerate(rows, start=1):
        if row.id == contact.id:
            return n
    return 1


def take(contact: Contact, user: User | None, leg_sid: str) -> None:
    """An operator pressed 1: the caller is answered by them, who is busy until it ends."""
    if contact.answered_at is None:
        contact.answered_at = utcnow()
    contact.status = "answered"
    contact.ivr_step = "connected"
    contact.operator_call_sid = leg_sid[:64] or None
    if user is not None:
        contact.answered_by_id = user.id
        user.on_call_sid = contact.provider_sid
        if user.availability == "available":
            set_availability(user, "busy")


def release(user: User | None, contact: Contact) -> None:
    """The operator's hotline call ended: available again (unless they chose otherwise
    meanwhile) and offered the longest-waiting caller."""
    if user is None or user.on_call_sid != contact.provider_sid:
        return
    user.on_call_sid = None
    if user.availability == "busy":
        set_availability(user, "available")
    offer_waiting(user)


def offer_waiting(user: User) -> bool:
    """Queue a call to this operator for the longest-waiting caller, if any."""
    if not ringable(user) or user.on_call_sid:
        return False
    first = db.session.scalars(waiting_calls().limit(1)).first()
    if first is None:
        return False
    add_work(
        OFFER_JOB,
        {"user_id": user.id, "contact_id": first.id},
        queue="alerts",
        dedupe_key=f"offer:{user.id}:{first.id}",
    )
    return True


def operator_by_phone(phone: str) -> User | None:
    if not phone:
        return None
    return db.session.scalar(
        select(User).where(User.phone == phone, User.role == "operator").limit(1)
    )


def caller_id(contact: Contact) -> str:
    """The number calls the service starts come from: the hotline number the caller
    dialled (else the configured sender)."""
    return contact.hotline_number or current_app.config.get("TWILIO_SMS_FROM") or ""


@registry.register(OFFER_JOB, queue="alerts")
def offer_job(user_id: int, contact_id: int) -> str:
    """Call an operator who just became free for the longest-waiting caller; on answer they
    hear a one-key screen (``offer`` step) and press 1 to take the caller off hold."""
    user = db.session.get(User, user_id)
    contact = db.session.get(Contact, contact_id)
    if user is None or contact is None or not ringable(user) or user.on_call_sid:
        return "skipped"
    if contact.ivr_step != "queued" or contact.ended_at or contact.answered_at:
        return "not-waiting"
    leg = CallLeg(kind="offer", contact_id=contact.id, user_id=user.id, status="requested")
    db.session.add(leg)
    db.session.flush()
    sid = outbound.start_call(
        user.phone,  # type: ignore[arg-type]
        caller_id(contact),
        f"offer?l={leg.id}",
        timeout=OFFER_RING_SECONDS,
    )
    leg.sid, leg.status = sid, "ringing"
    db.session.commit()
    log.info("offered waiting call %s to operator %s (leg %s)", contact.id, user.id, leg.id)
    return "offered"


# --------------------------------------------------------------------------------------------
# Transfers


def find_operators_call(user: User, call_sid: str) -> Contact:
    contact = db.session.scalar(
        select(Contact).where(Contact.channel == "voice", Contact.provider_sid == call_sid[:64])
    )
    if (
        contact is None
        or contact.answered_by_id != user.id
        or contact.answered_at is None
        or contact.ended_at is not None
    ):
        raise NotTheOperatorsCall(call_sid)
    return contact


def request_transfer(user: User, call_sid: str, code: object, mode: object) -> CallLeg:
    """Bring a service point's duty phone into the operator's call (in the caller's
    transaction); raises :class:`NotTheOperatorsCall` or :class:`ValidationError`."""
    contact = find_operators_call(user, call_sid)
    errors: dict[str, list[str]] = {}
    point = None
    if mode not in TRANSFER_MODES:
        errors["mode"] = [_("Mode is warm or cold.")]
    if not isinstance(code, str) or not code.strip():
        errors["service_point"] = [_("Choose a service point.")]
    else:
        point = db.session.scalar(select(ServicePoint).where(ServicePoint.code == code.strip()))
        if point is None or not point.active:
            errors["service_point"] = [_("No active service point has this code.")]
        elif not point.alert_phone:
            errors["service_point"] = [_("This service point has no duty phone.")]
    if errors:
        raise ValidationError(errors)
    assert point is not None
    contact.conference = contact.conference or f"hotline-{contact.id}"
    leg = CallLeg(
        kind="transfer",
        contact_id=contact.id,
        user_id=user.id,
        service_point_id=point.id,
        mode=mode,  # type: ignore[arg-type]
        status="requested",
    )
    db.session.add(leg)
    db.session.flush()
    add_work(TRANSFER_JOB, {"leg_id": leg.id}, queue="alerts", dedupe_key=f"transfer:{leg.id}")
    record_event(user, "call.transfer", "call_leg", leg.id, {"mode": mode, "point": point.code})
    return leg


@registry.register(TRANSFER_JOB, queue="alerts")
def transfer_job(leg_id: int) -> str:
    """Move the operator's leg into the call's conference (the caller follows: their own
    step finds the conference) and ring the point's duty phone into it."""
    leg = db.session.get(CallLeg, leg_id)
    if leg is None or leg.sid or leg.status != "requested":
        return "skipped"
    contact = leg.contact
    if contact.ended_at is not None:
        leg.status, leg.ended_at = "failed", utcnow()
        db.session.commit()
        return "call-ended"
    point = db.session.get(ServicePoint, leg.service_point_id)
    already = db.session.scalar(
        select(func.count())
        .select_from(CallLeg)
        .where(
            CallLeg.contact_id == contact.id,
            CallLeg.kind == "transfer",
            CallLeg.id != leg.id,
            CallLeg.sid.is_not(None),
        )
    )
    if not already and contact.operator_call_sid:
        outbound.move_to_conference(contact.operator_call_sid, contact.conference)  # type: ignore[arg-type]
    sid = outbound.add_conference_participant(
        contact.conference,  # type: ignore[arg-type]
        point.alert_phone,  # type: ignore[union-attr, arg-type]
        caller_id(contact),
        timeout=TRANSFER_RING_SECONDS,
        # Cold: the operator leaves, so the conference ends when the point hangs up.
        ends_conference=leg.mode == "cold",
    )
    leg.sid, leg.status = sid, "ringing"
    db.session.commit()
    log.info("transfer leg %s ringing", leg.id)
    return "ringing"


@registry.register(LEAVE_JOB, queue="alerts")
def leave_job(leg_id: int) -> str:
    """Cold transfer: the point answered, so the operator's leg leaves the conference."""
    leg = db.session.get(CallLeg, leg_id)
    if leg is None or leg.contact.operator_call_sid is None:
        return "skipped"
    outbound.end_call(leg.contact.operator_call_sid)
    return "left"


def _case_of(contact: Contact) -> Case | None:
    return db.session.scalar(
        select(Case).where(Case.contact_id == contact.id).order_by(Case.id.desc()).limit(1)
    )


def leg_status(leg: CallLeg, status: str) -> None:
    """Progress of a call the service started (an offer or a transfer)."""
    if status in ("ringing", "initiated", "queued"):
        if leg.status == "requested":
            leg.status = "ringing"
        return
    if leg.kind == "transfer":
        _transfer_status(leg, status)
    elif leg.kind == "offer" and status in ENDED:
        if leg.ended_at is None:
            leg.ended_at = utcnow()
            leg.status = "completed" if leg.answered_at else "unanswered"
        user = db.session.get(User, leg.user_id) if leg.user_id else None
        release(user, leg.contact)
        if leg.status == "unanswered":
            # Nobody took the waiting caller: offer them to every other free operator
            # (each operator is offered one caller once).
            for other in on_duty_operators():
                offer_waiting(other)


def _transfer_status(leg: CallLeg, status: str) -> None:
    contact = leg.contact
    if status in ("in-progress", "answered"):
        if leg.answered_at is not None:
            return
        leg.answered_at = utcnow()
        leg.status = "answered"
        case = _case_of(contact)
        if case is not None:
            record_transfer(case, leg)
        if leg.mode == "cold":
            add_work(LEAVE_JOB, {"leg_id": leg.id}, queue="alerts", dedupe_key=f"leave:{leg.id}")
        return
    if status not in ENDED or leg.ended_at is not None:
        return
    leg.ended_at = utcnow()
    if leg.answered_at is not None:
        leg.status = "completed"
        return
    leg.status = "unanswered"
    # Nobody at the point took the call: the case still needs a point that accepts it,
    # which is exactly what a referral_declined task asks of an operator; without a case
    # yet, the caller needs calling back once a point is found.
    case = _case_of(contact)
    if case is not None:
        open_task(
            "referral_declined", f"transfer:{leg.id}", case_id=case.id, contact_id=contact.id
        )
    else:
        open_task("callback", f"transfer:{leg.id}", contact_id=contact.id)


def find_leg(provider: str, sid: str) -> CallLeg | None:
    return db.session.scalar(
        select(CallLeg).where(CallLeg.provider == provider, CallLeg.sid == sid)
    )


def first_waiting() -> Contact | None:
    """The longest-waiting caller on hold, if any."""
    return db.session.scalars(waiting_calls().limit(1)).first()


TIDY_JOB = "voice.tidy"


@registry.register(TIDY_JOB)
def tidy() -> int:
    """Safety net, run periodically: an operator still marked on a call that has ended (its
    status callback was lost) is released, and free operators are offered whoever waits
    (an operator put back on duty, say). The number of operators released."""
    released = 0
    for user in db.session.scalars(select(User).where(User.on_call_sid.is_not(None))).all():
        call = db.session.scalar(
            select(Contact).where(
                Contact.channel == "voice", Contact.provider_sid == user.on_call_sid
            )
        )
        if call is not None and call.ended_at is None:
            continue
        if call is not None:
            release(user, call)
        else:
            user.on_call_sid = None
            if user.availability == "busy":
                set_availability(user, "available")
        released += 1
    if first_waiting() is not None:
        for user in on_duty_operators():
            offer_waiting(user)
    db.session.commit()
    return released
