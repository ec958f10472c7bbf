"""The SMS conversation with a caller, whichever adapter delivered the message.

One conversation (a ``Contact`` with channel ``sms``) per sender: the first reply
acknowledges neutrally and names 113; the place is read from the text by the routing
engine; an unknown or ambiguous place is asked for (at most twice), after which the case
goes to the provincial centre. A routed conversation creates one case, its referral and
alert, and is answered with the service point's name and public phone.

Replies are short and neutral (the phone may be shared): no organisation type, no words
such as "violence" or "shelter", never an address. Everything runs in the caller's
transaction; the adapter commits once, together with its receipt.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, insert, select

from hotline.alerts.acknowledge import try_sms_acknowledgement
from hotline.cases.intake import CaseInput, create_case
from hotline.conversations.callers import caller_identity
from hotline.conversations.pending import pending_candidates, remember_candidates
from hotline.jobs.outbox import add_work
from hotline.phones import public_phone
from hotline.tasks import open_task
from hotline.telephony import InboundSms
from hotline.telephony.segments import segments
from models import Contact, Message, OptOut, SenderLock, db
from models.types import utcnow
from routing.resolve import (
    AMBIGUOUS,
    OUTSIDE_PROVINCE,
    RESOLVED,
    PlaceMatch,
    choose_candidate,
    resolve_place,
)
from routing.select import Decision
from routing.text import fold, toned_key

#: Unresolved answers after which the case goes to the provincial centre.
MAX_PLACE_ASKS = 2
#: A conversation quiet for this long is over; the sender's next message starts a new one.
CONVERSATION_GAP = timedelta(hours=24)
#: Place resolution reads at most this much of a message (a long one is one SMS's worth).
MAX_RESOLVE_CHARS = 480
#: A place question unanswered this long hands the case to the provincial centre, so a
#: sender who falls silent (phone taken away) is not lost.
PLACE_QUESTION_TIMEOUT = timedelta(minutes=15)
PLACE_TIMEOUT_JOB = "conversations.place_timeout"

#: Whole-message keywords, as written (case-insensitive). Vietnamese ones also match
#: without diacritics, but not with other diacritics ("đúng" is not "dừng").
_STOP = ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "dừng", "hủy")
_START = ("start", "unstop", "bắt đầu")
_HELP = ("help", "info", "giúp", "trợ giúp")
_ENGLISH_WORDS = frozenset(
    {"help", "please", "hello", "english", "need", "where", "scared", "hurt", "i'm"}
)


def _normalise(text: str) -> str:
    """NFC text without NUL or lone surrogates (safe to store and to encrypt)."""
    text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    return unicodedata.normalize("NFC", text)


def _same_word(typed: str, keyword: str) -> bool:
    typed_words, kw_words = typed.split(), keyword.split()
    if len(typed_words) != len(kw_words):
        return False
    for t, k in zip(typed_words, kw_words, strict=True):
        if fold(t) != fold(k):
            return False
        if not t.isascii() and toned_key(t) != toned_key(k):
            return False
    return True


def keyword(body: str) -> str | None:
    """``stop``, ``start`` or ``help`` when the whole message is one of the keywords."""
    text = _normalise(body).strip().strip(".!?,;: ").casefold()
    if not text or len(text) > 20:
        return None
    for name, words in (("stop", _STOP), ("start", _START), ("help", _HELP)):
        if any(_same_word(text, w) for w in words):
            return name
    return None


def _looks_english(body: str) -> bool:
    words = {w.strip(".,!?;:") for w in body.casefold().split()}
    return body.isascii() and bool(words & _ENGLISH_WORDS)


def _conversation(
    provider: str, number: str | None, caller_hash: str | None, to: str
) -> tuple[Contact, bool]:
    """The sender's open conversation, or a new one (second value True)."""
    if caller_hash:
        contact = db.session.scalar(
            select(Contact)
            .where(Contact.channel == "sms", Contact.caller_hash == caller_hash)
            .order_by(Contact.id.desc())
            .limit(1)
        )
        if (
            contact is not None
            and contact.status in ("open", "routed")
            and utcnow() - contact.updated_at < CONVERSATION_GAP
        ):
            return contact, False
    contact = Contact(
        channel="sms",
        provider=provider,
        caller_number=number,
        caller_hash=caller_hash,
        hotline_number=to[:32] or None,
        status="open",
        language="vi",
        place_asks=0,
        started_at=utcnow(),
    )
    db.session.add(contact)
    return contact, True


def _hold_sender(caller_hash: str) -> None:
    """Wait for, then hold until commit, this sender's lock (see ``SenderLock``): two
    messages from one number handled at once would otherwise both find no conversation
    and open two. Nothing stays stored."""
    lock = SenderLock.__table__
    db.session.execute(insert(lock).values(number_hash=caller_hash))
    db.session.execute(delete(lock).where(lock.c.number_hash == caller_hash))


def _set_opt_out(caller_hash: str, opted_out: bool) -> None:
    row = db.session.get(OptOut, caller_hash)
    if row is None:
        db.session.add(OptOut(number_hash=caller_hash, opted_out=opted_out))
    else:
        row.opted_out = opted_out
        row.changed_at = utcnow()


def _point_reply(decision: Decision, first: bool) -> str:
    """The service point's name and public phone; on a first reply also 113 (kept to
    one UCS-2 segment for usual names by leaving out the acknowledgement)."""
    point = decision.primary
    if point is None:
        if first:
            return _("In danger, call 113. Children: 111. Hotline 18001769.")
        return _("Please call hotline 18001769.")
    # DESIGN.md section 5: the reply names the point and its public phone, for every kind
    # (a shelter's address is never sent; its name may say what it is - see docs).
    phone = public_phone(point.phone)
    name = point.sms_label  # the point's neutral SMS name when the directory gives one
    if first:
        return _("Danger: call 113. Contact %(name)s: %(phone)s", name=name, phone=phone)
    return _("Contact %(name)s: %(phone)s", name=name, phone=phone)


def _route(contact: Contact, place: PlaceMatch | None, first: bool) -> str:
    """Create and route the case (alert queued by the case service); the reply text."""
    data = CaseInput(
        channel="sms",
        risk="high",
        consent_referral=True,
        consent_follow_up=False,
        consent_reporting=False,
    )
    db.session.flush()  # the contact's id, before the case refers to it
    case, decision = create_case(data, actor="sms", place=place, contact=contact)
    if place is None:
        # Routed to the provincial centre without a place: an operator completes it.
        open_task("sms_unrouted", f"contact:{contact.id}", case_id=case.id, contact_id=contact.id)
    contact.status = "routed"
    contact.pending_places = None
    contact.commune_code = (
        decision.place.commune_codes[0] if decision.place.commune_codes else None
    )
    contact.district_code = (
        decision.place.district_codes[0] if decision.place.district_codes else None
    )
    return _point_reply(decision, first)


def _place_step(contact: Contact, body: str, first: bool) -> str:
    """Read the place from the message, ask for it, or route."""
    place = None
    candidates = pending_candidates(contact)
    text = body[:MAX_RESOLVE_CHARS]
    if candidates and text.strip():
        place = choose_candidate(text, candidates)
    resolution = None
    if place is None and text.strip():
        resolution = resolve_place(text)
        if resolution.status == RESOLVED:
            place = resolution.best
    if place is not None:
        return _route(contact, place, first)
    if contact.place_asks >= MAX_PLACE_ASKS:
        # Two questions went unanswered: the provincial centre takes it.
        return _route(contact, None, first)
    ack = _("Message received. In danger, call 113.")
    contact.place_asks += 1
    db.session.flush()
    add_work(
        PLACE_TIMEOUT_JOB,
        {"contact_id": contact.id, "asks": contact.place_asks},
        queue="default",
        dedupe_key=f"sms-place:{contact.id}:{contact.place_asks}",
        available_at=utcnow() + PLACE_QUESTION_TIMEOUT,
    )
    if resolution is not None and resolution.status in (AMBIGUOUS, OUTSIDE_PROVINCE):
        if resolution.status == AMBIGUOUS:
            remember_candidates(contact, resolution.candidates)
        question = resolution.question.render(_)  # type: ignore[union-attr]
    else:
        question = _("Which commune or ward are you in?")
    return f"{ack} {question}" if first else question


def route_unanswered(contact_id: int, asks: int) -> bool:
    """Route a conversation whose place question (number ``asks``) went unanswered to the
    provincial centre; False when it was answered, routed or closed meanwhile."""
    caller_hash = db.session.scalar(select(Contact.caller_hash).where(Contact.id == contact_id))
    if caller_hash:
        # The sender's answer may be arriving right now: take turns with it (same lock,
        # same order as handle_sms), then read the conversation as it is after it.
        _hold_sender(caller_hash)
    contact = db.session.get(Contact, contact_id, with_for_update=True, populate_existing=True)
    if contact is None or contact.status != "open" or contact.place_asks != asks:
        return False
    with force_locale(contact.language):
        _route(contact, None, first=False)
    return True


def handle_sms(msg: InboundSms) -> str:
    """Store one inbound SMS, advance its conversation and return the reply text.

    Runs in the caller's transaction; the caller commits once (with its receipt).
    """
    number, caller_hash = caller_identity(msg.sender)
    body = _normalise(msg.body or "")
    if number is not None:
        # A duty social worker acknowledging an alert is not a caller.
        ack = try_sms_acknowledgement(number, body)
        if ack is not None:
            return ack

    if caller_hash:
        _hold_sender(caller_hash)
    kw = keyword(body)
    contact, first = _conversation(msg.provider, number, caller_hash, msg.to or "")
    if first and (_looks_english(body) or body.strip().casefold() in ("help", "info")):
        contact.language = "en"
    db.session.add(
        Message(
            contact=contact,
            direction="in",
            provider=msg.provider,
            provider_sid=msg.sid,
            body=body,
            media_count=max(0, msg.media_count),
            segments=segments(body) if body else 0,
            status="received",
        )
    )
    db.session.flush()

    with force_locale(contact.language):
        if kw == "stop":
            if caller_hash:
                _set_opt_out(caller_hash, True)
            contact.status = "closed"
            reply = _("You will get no more messages. Send START to undo. Danger: call 113.")
        elif kw == "start":
            if caller_hash:
                _set_opt_out(caller_hash, False)
            reply = _("Messages are on again. In danger, call 113.")
        elif kw == "help":
            reply = _("Hotline 18001769. In danger, call 113. Children: 111.")
        elif contact.status == "routed":
            reply = _("Message received. In danger, call 113.")
        else:
            reply = _place_step(contact, body, first)

    db.session.add(
        Message(
            contact=contact,
            direction="out",
            provider=msg.provider,
            body=reply,
            segments=segments(reply),
            status="replied",
        )
    )
    contact.updated_at = utcnow()
    return reply


def safe_reply(language: str = "vi") -> str:
    """The answer when nothing else can be said: emergency numbers and the hotline."""
    with force_locale(language):
        return _("In danger, call 113. Children: 111. Hotline 18001769.")
