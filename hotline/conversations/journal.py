"""The worker's side of journal-first intake (DESIGN.md section 10): every inbound message
the webhook recorded (``InboundJournal``) becomes the conversation, its messages, the case,
the referral, the alert and the outbox work — exactly once, in order per sender, with the
routing decision the webhook made and told the sender.

A worker takes the sender's lock (the webhook's own), processes every unprocessed entry of
that sender up to the one it picked, oldest first, and marks each processed in the same
transaction as the rows made from it. A worker that dies half-way leaves the entries
unprocessed; the next run does them. The worker's loop runs :func:`process_journal` every
tenth of a second (``hotline.jobs.periodic``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask_babel import force_locale
from sqlalchemy import delete, select, update

from hotline.cases.intake import CaseInput, create_case, routing_record
from hotline.conversations.sms import (
    PLACE_QUESTION_TIMEOUT,
    PLACE_TIMEOUT_JOB,
    _route_decision,
    hold_sender,
)
from hotline.jobs import registry
from hotline.jobs.delivery import send_once
from hotline.jobs.outbox import add_work
from hotline.tasks import open_task
from hotline.telephony.flows import reply_sender
from hotline.telephony.segments import segments
from models import Contact, InboundJournal, Message, db
from models.types import utcnow

log = logging.getLogger(__name__)

PROCESS_JOB = "conversations.process_journal"
#: Sends the reply to an inbound message whose provider cannot answer in the webhook's
#: response (``hotline.telephony.flows.reply_sender``).
SEND_JOURNAL_REPLY_JOB = "conversations.send_journal_reply"
#: Entries taken per run of the loop.
BATCH = 200
#: After this many failed attempts an entry is left for people to look at (it stays
#: unprocessed and is reported by the health check's backlog), not retried every tick.
MAX_ATTEMPTS = 20


@registry.register(PROCESS_JOB)
def process_journal(limit: int = BATCH) -> int:
    """Process every unprocessed journal entry (oldest first); how many were done."""
    ids = list(
        db.session.scalars(
            select(InboundJournal.id)
            .where(InboundJournal.processed_at.is_(None), InboundJournal.attempts < MAX_ATTEMPTS)
            .order_by(InboundJournal.id)
            .limit(limit)
        )
    )
    db.session.rollback()  # end the read: each entry is its own transaction
    done = 0
    for entry_id in ids:
        done += process_entry(entry_id)
    return done


def process_entry(entry_id: int) -> int:
    """Process one entry and, first, its sender's earlier unprocessed ones; how many."""
    entry = db.session.get(InboundJournal, entry_id)
    if entry is None or entry.processed_at is not None:
        db.session.rollback()
        return 0
    sender_hash = entry.sender_hash
    try:
        if sender_hash:
            hold_sender(sender_hash)
            entries = list(
                db.session.scalars(
                    select(InboundJournal)
                    .where(
                        InboundJournal.sender_hash == sender_hash,
                        InboundJournal.processed_at.is_(None),
                        InboundJournal.id <= entry_id,
                    )
                    .order_by(InboundJournal.id)
                    .execution_options(populate_existing=True)
                )
            )
        else:
            # No sender to lock by: lock the entry itself (a row lock on PostgreSQL, the
            # write lock on SQLite), so two processors never both make its rows.
            db.session.execute(
                update(InboundJournal)
                .where(InboundJournal.id == entry_id)
                .values(attempts=InboundJournal.attempts)
                .execution_options(synchronize_session=False)
            )
            db.session.refresh(entry)
            entries = [entry] if entry.processed_at is None else []
        for item in entries:
            apply_entry(item)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        _failed(entry_id, exc)
        return 0
    return len(entries)


def process_sender(sender_hash: str) -> int:
    """Process every unprocessed entry of one sender (before acting on their conversation
    from elsewhere, e.g. the place-question timeout); in the caller's transaction, which
    must already hold the sender's lock."""
    entries = list(
        db.session.scalars(
            select(InboundJournal)
            .where(
                InboundJournal.sender_hash == sender_hash, InboundJournal.processed_at.is_(None)
            )
            .order_by(InboundJournal.id)
        )
    )
    for entry in entries:
        apply_entry(entry)
    return len(entries)


#: Processed entries are kept this long (a provider's retries come within minutes; the
#: messages themselves live on in the conversation), then deleted with their texts.
KEEP_PROCESSED = timedelta(days=7)


@registry.register("conversations.purge_journal")
def purge_journal(now: datetime | None = None) -> int:
    """Delete processed journal entries past any provider retry; how many."""
    cutoff = (now or utcnow()) - KEEP_PROCESSED
    removed = db.session.execute(
        delete(InboundJournal).where(
            InboundJournal.processed_at.is_not(None), InboundJournal.processed_at < cutoff
        )
    ).rowcount
    db.session.commit()
    return removed or 0


def _failed(entry_id: int, exc: Exception) -> None:
    """Count a failed attempt (the entry stays to be processed again); codes only."""
    entry = db.session.get(InboundJournal, entry_id)
    if entry is not None:
        entry.attempts = (entry.attempts or 0) + 1
        entry.error = type(exc).__name__[:60]
        db.session.commit()
    log.error("journal entry %s failed (%s)", entry_id, type(exc).__name__)


def _conversation(entry: InboundJournal) -> Contact:
    """The conversation the webhook put this message in: new, or the sender's latest."""
    decision = entry.decision
    if not decision.get("new") and entry.sender_hash:
        contact = db.session.scalar(
            select(Contact)
            .where(Contact.channel == entry.channel, Contact.caller_hash == entry.sender_hash)
            .order_by(Contact.id.desc())
            .limit(1)
        )
        if contact is not None:
            return contact
    contact = Contact(
        channel=entry.channel or "sms",
        provider=entry.provider,
        caller_number=entry.sender,
        caller_hash=entry.sender_hash,
        hotline_number=entry.to_number,
        status="open",
        language=decision.get("state", {}).get("language", "vi"),
        place_asks=0,
        started_at=entry.received_at,
    )
    db.session.add(contact)
    db.session.flush()
    return contact


def apply_entry(entry: InboundJournal) -> None:
    """Make the rows one journal entry stands for (in the caller's transaction)."""
    decision = entry.decision or {}
    now = utcnow()
    if decision.get("step") == "staff":  # acted on at once by the webhook
        entry.processed_at = entry.processed_at or now
        return
    contact = _conversation(entry)
    by_worker = reply_sender(entry.provider) is not None
    reply = Message(
        contact=contact,
        direction="out",
        provider=entry.provider,
        body=entry.reply,
        segments=segments(entry.reply or ""),
        # Answered in the webhook's response, or to be sent by the worker.
        status="pending" if by_worker else "replied",
        created_at=entry.received_at,
    )
    db.session.add_all(
        [
            Message(
                contact=contact,
                direction="in",
                provider=entry.provider,
                provider_sid=entry.provider_sid,
                body=entry.body,
                media_count=entry.media_count or 0,
                segments=segments(entry.body) if entry.body else 0,
                status="received",
                created_at=entry.received_at,
            ),
            reply,
        ]
    )
    if by_worker and entry.reply:
        db.session.flush()
        add_work(
            SEND_JOURNAL_REPLY_JOB,
            {"message_id": reply.id},
            dedupe_key=f"journal-reply:{entry.id}",
            fresh=True,
        )
    state = decision.get("state", {})
    contact.language = state.get("language", contact.language)
    contact.pending_places = state.get("pending_places")
    contact.place_asks = state.get("place_asks", contact.place_asks)
    step = decision.get("step")
    if step == "route" and contact.status != "routed":
        _route(contact, decision["routing"], place_found=decision.get("place_found", True))
    elif step == "ask":
        db.session.flush()
        add_work(
            PLACE_TIMEOUT_JOB,
            {"contact_id": contact.id, "asks": contact.place_asks},
            queue="default",
            dedupe_key=f"sms-place:{contact.id}:{contact.place_asks}",
            available_at=entry.received_at + PLACE_QUESTION_TIMEOUT,
        )
    if step != "route" and state.get("status") == "closed":
        contact.status = "closed"  # STOP ends the conversation (the opt-out is already stored)
    contact.updated_at = _latest(contact.updated_at, entry.received_at)
    entry.processed_at = now


def _latest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


#: A conversation's channel → the case's ``channel`` in the API and reports, whose contract
#: (DESIGN.md sections 7 and 9) knows ``voice|sms|walk_in|other``: a Zalo case is ``other``
#: (its conversation, ``Contact.channel`` ``zalo``, shows operators it came by Zalo).
CASE_CHANNELS = {"sms": "sms", "zalo": "other"}


def _route(contact: Contact, routing: dict, *, place_found: bool) -> None:
    """Create the conversation's case with the recorded routing; an operator completes a
    case that reached the provincial centre without a place."""
    data = CaseInput(
        channel=CASE_CHANNELS.get(contact.channel, "other"),
        risk="high",
        consent_referral=True,
        consent_follow_up=False,
        consent_reporting=False,
    )
    db.session.flush()  # the contact's id, before the case refers to it
    actor = "zalo" if contact.channel == "zalo" else "sms"
    case, _decision = create_case(data, actor=actor, contact=contact, routing=routing)
    if not place_found:
        open_task("sms_unrouted", f"contact:{contact.id}", case_id=case.id, contact_id=contact.id)
    contact.status = "routed"
    contact.pending_places = None
    contact.commune_code = (routing.get("commune_codes") or [None])[0]
    contact.district_code = (routing.get("district_codes") or [None])[0]


def route_unanswered(contact_id: int, asks: int) -> bool:
    """Route a conversation whose place question (number ``asks``) went unanswered to the
    provincial centre; False when it was answered, routed or closed meanwhile."""
    caller_hash = db.session.scalar(select(Contact.caller_hash).where(Contact.id == contact_id))
    if caller_hash:
        # The sender's answer may be arriving right now: take turns with it (the same
        # lock as the webhook), and first make the rows of what they already sent.
        hold_sender(caller_hash)
        process_sender(caller_hash)
    contact = db.session.get(Contact, contact_id, with_for_update=True, populate_existing=True)
    if contact is None or contact.status != "open" or contact.place_asks != asks:
        return False
    with force_locale(contact.language):
        routing = routing_record(_route_decision(None))
    _route(contact, routing, place_found=False)
    return True


@registry.register(SEND_JOURNAL_REPLY_JOB, retry=registry.SMS)
def send_journal_reply(message_id: int) -> str:
    """Send the reply the webhook decided (and recorded) to the sender, exactly once,
    through the provider that delivered their message."""
    message = db.session.get(Message, message_id)
    if message is None or message.status != "pending":
        return "missing" if message is None else message.status
    contact = db.session.get(Contact, message.contact_id)
    sender = reply_sender(message.provider or "")
    if sender is None:
        message.status, message.error_code = "failed", "no-provider"
        db.session.commit()
        return "failed"

    def mirror(row) -> None:
        message.provider_sid = row.provider_sid
        message.error_code = (row.error_code or "")[:10] or None
        if row.status in ("sent", "failed"):
            message.status = row.status

    delivery = send_once(
        f"journal-reply:{message.id}",
        to=contact.caller_number if contact else None,
        render=lambda: message.body or "",
        purpose="reply",
        recipient="survivor",
        mirror=mirror,
        send=sender.send,
        find=sender.find,
        keyed=sender.keyed,
    )
    return delivery.status
