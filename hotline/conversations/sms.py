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

import json
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, insert, text

from hotline.alerts.acknowledge import looks_like_acknowledgement, try_sms_acknowledgement
from hotline.cases.intake import routing_record
from hotline.conversations.callers import sender_identity
from hotline.conversations.pending import candidates_from, candidates_record
from hotline.directory.decisions import VERSION_SQL, decide
from hotline.phones import public_phone
from hotline.telephony import InboundSms
from models import Contact, InboundJournal, SenderLock, db, quick
from models.quick import Statement
from models.types import EncryptedText, UTCDateTime, utcnow
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


@dataclass
class SenderState:
    """Where the sender's conversation stands, as the webhook reads it: the conversation
    the worker has made (``contact_id``) advanced by any message recorded but not yet
    processed (the latest journal entry carries the state after it)."""

    new: bool = True
    status: str = "open"
    language: str = "vi"
    place_asks: int = 0
    pending_places: list | None = None
    contact_id: int | None = None

    def as_record(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "language": self.language,
            "place_asks": self.place_asks,
            "pending_places": self.pending_places,
        }


#: Everything the webhook reads, in one statement: the answer already given to this
#: message (its journal entry, or a receipt from before the journal existed), the
#: directory's version, and the sender's latest unprocessed journal entry and latest
#: conversation. Written out once (plain SQL both databases run) with typed columns, so
#: decryption, JSON and timestamps are handled as for the ORM's own reads.
_SNAPSHOT_SQL = """
    SELECT
      (SELECT reply FROM inbound_journal
        WHERE provider = :provider AND provider_sid = :sid) AS answer,
      r.response AS receipt,
      r.content_type AS receipt_type,
      {version} AS dir_version,
      j.decision AS entry_decision,
      j.received_at AS entry_at,
      (SELECT max(id) FROM inbound_journal WHERE sender_hash = :sender) AS latest_id,
      c.id AS contact_id,
      c.status AS contact_status,
      c.language AS contact_language,
      c.place_asks AS contact_place_asks,
      c.pending_places AS contact_pending_places,
      c.updated_at AS contact_updated_at
    FROM (SELECT 1 AS one) AS one
    LEFT JOIN webhook_receipt AS r ON r.provider = :provider AND r."key" = :receipt_key
    LEFT JOIN inbound_journal AS j ON j.id = (
      SELECT max(id) FROM inbound_journal WHERE sender_hash = :sender AND processed_at IS NULL)
    LEFT JOIN contact AS c ON c.id = (
      SELECT max(id) FROM contact WHERE channel = '{channel}' AND caller_hash = :sender)
    """

_SNAPSHOT_COLUMNS = {
    "answer": EncryptedText(),
    "receipt": EncryptedText(),
    "entry_decision": InboundJournal.__table__.c.decision.type,
    "entry_at": UTCDateTime(),
    "contact_pending_places": Contact.__table__.c.pending_places.type,
    "contact_updated_at": UTCDateTime(),
}

#: SQLite (no per-sender lock there): the entry is written only if the sender's
#: conversation has not moved on since the snapshot — no later entry of the sender, and
#: the same latest conversation with the same status and questions asked. The check and
#: the write are one statement under the file's write lock: nothing can be recorded
#: between them, and the lock is not held while Python runs.
_NOT_OVERTAKEN = """
    NOT EXISTS (SELECT 1 FROM inbound_journal WHERE sender_hash = :sender_hash AND id > :_seen)
    AND (SELECT max(id) FROM contact WHERE channel = '{channel}' AND caller_hash = :sender_hash)
      IS :_contact_id
    AND NOT EXISTS (SELECT 1 FROM contact WHERE id = :_contact_id
      AND (status IS NOT :_status OR place_asks IS NOT :_place_asks))
    """

#: Written channels whose conversations the flow runs; each has its own two statements
#: (the channel is a literal in them, so the SMS statements are what they always were).
CHANNELS = ("sms", "zalo")
_SNAPSHOTS = {
    c: Statement(_SNAPSHOT_SQL.format(channel=c, version=VERSION_SQL), columns=_SNAPSHOT_COLUMNS)
    for c in CHANNELS
}
_ENTRY = ("provider", "provider_sid", "channel", "sender_hash", "sender", "to_number", "body")
_COLUMNS = (*_ENTRY, "media_count", "received_at", "reply", "decision", "processed_at")
_INSERT = quick.insert(InboundJournal.__table__, _COLUMNS)
_INSERTS_UNLESS_OVERTAKEN = {
    c: quick.insert(InboundJournal.__table__, _COLUMNS, where=_NOT_OVERTAKEN.format(channel=c))
    for c in CHANNELS
}
_OPT_OUT = Statement(
    "INSERT INTO opt_out (number_hash, opted_out, changed_at)"
    " VALUES (:number_hash, :opted_out, :changed_at)"
    " ON CONFLICT (number_hash) DO UPDATE"
    " SET opted_out = excluded.opted_out, changed_at = excluded.changed_at",
    params={"changed_at": UTCDateTime()},
)


def _snapshot(
    conn: quick.Connection, provider: str, sid: str, caller_hash: str | None, channel: str
):
    """What the webhook reads (see :data:`_SNAPSHOT_SQL`)."""
    return conn.one(
        _SNAPSHOTS[channel],
        {
            "provider": provider,
            "sid": sid[:64],
            "receipt_key": f"sms:{sid}"[:255],
            "sender": caller_hash,
        },
    )


def _state_from(snap, caller_hash: str | None, now) -> SenderState:
    """The conversation this message belongs to (a new one after a gap, a STOP, or for a
    withheld number), from the snapshot."""
    if not caller_hash:
        return SenderState()
    if snap.entry_decision is not None and "state" in snap.entry_decision:
        saved, last, contact_id = snap.entry_decision["state"], snap.entry_at, None
    elif snap.contact_id is not None:
        saved = {
            "status": snap.contact_status,
            "language": snap.contact_language,
            "place_asks": snap.contact_place_asks,
            "pending_places": snap.contact_pending_places,
        }
        last, contact_id = snap.contact_updated_at, snap.contact_id
    else:
        return SenderState()
    if saved["status"] not in ("open", "routed") or last is None or now - last >= CONVERSATION_GAP:
        return SenderState()
    return SenderState(
        new=False,
        status=saved["status"],
        language=saved["language"] or "vi",
        place_asks=saved["place_asks"] or 0,
        pending_places=saved["pending_places"],
        contact_id=contact_id,
    )


#: PostgreSQL notification channel: a message was recorded in the journal (delivered at
#: commit); the worker's listener processes it at once (``hotline.conversations.wake``).
JOURNAL_CHANNEL = "hotline_journal"


_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
#: The webhook's lock: the same statement tells the worker, at commit.
_LOCK_AND_NOTIFY = Statement(
    f"SELECT pg_advisory_xact_lock(:key), pg_notify('{JOURNAL_CHANNEL}', '')"
)


def _lock_key(caller_hash: str) -> int:
    return int(caller_hash[:15], 16)


def hold_sender(caller_hash: str) -> None:
    """Wait for, then hold until commit, this sender's lock: two messages from one number
    handled at once would otherwise both read the same state, and the worker would process
    one sender's messages out of order. On PostgreSQL a transaction-scoped advisory lock
    keyed by the number's hash (one statement; the webhook takes the same lock with
    :data:`_LOCK_AND_NOTIFY`); elsewhere a ``SenderLock`` row inserted and deleted in the
    transaction (nothing stays stored)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_LOCK, {"key": _lock_key(caller_hash)})
        return
    lock = SenderLock.__table__
    db.session.execute(insert(lock).values(number_hash=caller_hash))
    db.session.execute(delete(lock).where(lock.c.number_hash == caller_hash))


def _set_opt_out(conn: quick.Connection, caller_hash: str, opted_out: bool) -> None:
    if not conn.postgres:
        conn.begin()  # the opt-out and the journal entry are written together
    conn.run(
        _OPT_OUT, {"number_hash": caller_hash, "opted_out": opted_out, "changed_at": utcnow()}
    )


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


def _route_decision(place: PlaceMatch | None, version: int | None = None) -> Decision:
    """How an SMS case is routed (the same inputs as the case it becomes: risk high, no
    needs or age known yet)."""
    return decide(place, needs=set(), risk="high", age_band="unknown", version=version)


def _place_step(
    state: SenderState, body: str, first: bool, decision: dict[str, Any], version: int | None
) -> str:
    """Read the place from the message and route, or ask for it (recorded in ``decision``
    for the worker)."""
    place = None
    candidates = candidates_from(state.pending_places)
    text = body[:MAX_RESOLVE_CHARS]
    if candidates and text.strip():
        place = choose_candidate(text, candidates)
    resolution = None
    if place is None and text.strip():
        resolution = resolve_place(text)
        if resolution.status == RESOLVED:
            place = resolution.best
    if place is not None or state.place_asks >= MAX_PLACE_ASKS:
        # Routed; after two unanswered questions the provincial centre takes it.
        routed = _route_decision(place, version)
        decision.update(
            step="route", place_found=place is not None, routing=routing_record(routed)
        )
        state.status, state.pending_places = "routed", None
        return _point_reply(routed, first)
    ack = _("Message received. In danger, call 113.")
    state.place_asks += 1
    state.pending_places = None
    if resolution is not None and resolution.status in (AMBIGUOUS, OUTSIDE_PROVINCE):
        if resolution.status == AMBIGUOUS:
            state.pending_places = candidates_record(resolution.candidates)
        question = resolution.question.render(_)  # type: ignore[union-attr]
    else:
        question = _("Which commune or ward are you in?")
    decision.update(step="ask", asks=state.place_asks)
    return f"{ack} {question}" if first else question


class _Overtaken(Exception):
    """Another message from the same sender was recorded while this one was decided
    (SQLite, which has no per-sender lock here): decide again."""


def handle_sms(msg: InboundSms) -> str:
    """Take one inbound SMS: decide the reply, record it in the journal and commit; the
    reply text. Idempotent on the provider's message id (a retry gets the first answer and
    changes nothing).

    The webhook reads what it needs in one statement (:func:`_snapshot`) and writes one
    journal entry (plus the opt-out row for STOP and START, honoured at once); the worker
    makes the conversation, messages, case, referral and alert from the entry, exactly
    once and in order per sender (:mod:`hotline.conversations.journal`), using the
    routing decision recorded here — so the case goes to the point the reply named.
    The statements run on the driver (:mod:`models.quick`), but for a duty social
    worker's reply to an alert, which acknowledges it in the ORM session's transaction.
    """
    staff = msg.channel == "sms" and looks_like_acknowledgement(msg.body)
    for _attempt in range(5):
        try:
            # PostgreSQL: one pipelined transaction, in which the sender's lock is held
            # until the commit. SQLite: the one write commits on its own (STOP and START
            # begin a transaction for their two).
            with (
                quick.session_connection() if staff else quick.connection(transaction=_postgres())
            ) as conn:
                reply = _take(conn, msg, staff=staff)
                conn.commit()
            return reply
        except _Overtaken:
            continue
        except quick.INTEGRITY_ERRORS:
            # The same message is being (or was just) handled by another worker.
            with quick.connection() as conn:
                answered = _answer_in(_snapshot(conn, msg.provider, msg.sid, None, msg.channel))
            if answered is None:
                raise
            return answered
    raise RuntimeError("a sender's messages kept overtaking each other")


def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _answer_in(snap) -> str | None:
    """The answer already given to this message, if the snapshot found one."""
    if snap.answer is not None:
        return snap.answer
    if snap.receipt is not None:
        return _reply_of_receipt(snap.receipt, snap.receipt_type or "") or ""
    return None


def _reply_of_receipt(response: str, content_type: str) -> str | None:
    """The text of an answer stored as a webhook receipt (TwiML or the gateway's JSON)."""
    import xml.etree.ElementTree as ET

    try:
        if "json" in content_type:
            return json.loads(response).get("reply")
        message = ET.fromstring(response).find("Message")  # noqa: S314 - our own TwiML
    except (ValueError, ET.ParseError, AttributeError):
        return None
    return message.text if message is not None else None


def _take(conn: quick.Connection, msg: InboundSms, *, staff: bool) -> str:
    now = utcnow()
    number, caller_hash = sender_identity(msg.channel, msg.sender)
    body = _normalise(msg.body or "")
    if caller_hash and conn.postgres:
        conn.run(_LOCK_AND_NOTIFY, {"key": _lock_key(caller_hash)})
    snap = _snapshot(conn, msg.provider, msg.sid, caller_hash, msg.channel)
    answered = _answer_in(snap)
    if answered is not None:
        return answered
    values: dict[str, Any] = {
        "provider": msg.provider,
        "provider_sid": msg.sid[:64],
        "channel": msg.channel,
        "sender_hash": caller_hash,
        "sender": number,
        "to_number": (msg.to or "")[:32] or None,
        "body": body,
        "media_count": max(0, msg.media_count),
        "received_at": now,
        "processed_at": None,
    }
    if staff and number is not None:
        # A duty social worker acting on an alert is not a caller: done here and now.
        ack = try_sms_acknowledgement(number, body)
        if ack is not None:
            staff_entry = {"reply": ack, "decision": {"step": "staff"}, "processed_at": now}
            conn.run(_INSERT, {**values, **staff_entry})
            return ack

    state = _state_from(snap, caller_hash, now)
    first = state.new
    kw = keyword(body)
    if first and (_looks_english(body) or body.strip().casefold() in ("help", "info")):
        state.language = "en"
    decision: dict[str, Any] = {"new": first, "contact_id": state.contact_id, "keyword": kw}
    with force_locale(state.language):
        if kw == "stop":
            if caller_hash:
                _set_opt_out(conn, caller_hash, True)
            state.status = "closed"
            reply = _("You will get no more messages. Send START to undo. Danger: call 113.")
        elif kw == "start":
            if caller_hash:
                _set_opt_out(conn, caller_hash, False)
            reply = _("Messages are on again. In danger, call 113.")
        elif kw == "help":
            reply = _("Hotline 18001769. In danger, call 113. Children: 111.")
        elif state.status == "routed":
            reply = _("Message received. In danger, call 113.")
        else:
            reply = _place_step(state, body, first, decision, snap.dir_version)
    decision["state"] = state.as_record()
    entry = {**values, "reply": reply, "decision": decision}
    if caller_hash and not conn.postgres:
        # No lock was held while deciding: written only if no message of this sender was
        # recorded meanwhile and the conversation did not move on (the place-question
        # timeout routes it without a journal entry); otherwise decided again.
        seen = {
            "_seen": snap.latest_id or 0,
            "_contact_id": snap.contact_id,
            "_status": snap.contact_status,
            "_place_asks": snap.contact_place_asks,
        }
        if conn.run(_INSERTS_UNLESS_OVERTAKEN[msg.channel], {**entry, **seen}).rowcount != 1:
            raise _Overtaken()
    else:
        conn.run(_INSERT, entry)
    return reply


def safe_reply(language: str = "vi") -> str:
    """The answer when nothing else can be said: emergency numbers and the hotline."""
    with force_locale(language):
        return _("In danger, call 113. Children: 111. Hotline 18001769.")
