"""Calls and SMS conversations as they reach the hotline, from any telephony adapter."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.types import EncryptedText, PackedText, UTCDateTime, utcnow


class Contact(db.Model):
    """One call (keyed by the provider's call id) or one SMS conversation with a sender.

    The caller's number is stored encrypted; ``caller_hash`` is a keyed hash of it so
    repeat callers and opt-outs are found without decrypting.
    """

    __tablename__ = "contact"
    __table_args__ = (
        UniqueConstraint("provider", "provider_sid"),
        # A call's row is updated at every menu step: room to do it in place (0018).
        {"postgresql_with": {"fillfactor": 75}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), index=True)  # voice | sms
    provider: Mapped[str] = mapped_column(String(20))  # twilio | gateway | fallback
    #: CallSid for calls; None for SMS conversations (their messages carry the ids).
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    caller_number: Mapped[str | None] = mapped_column(EncryptedText)
    caller_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    hotline_number: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    language: Mapped[str] = mapped_column(String(5), default="vi")
    ivr_step: Mapped[str | None] = mapped_column(String(40))
    commune_code: Mapped[str | None] = mapped_column(String(5))
    district_code: Mapped[str | None] = mapped_column(String(3))
    place_asks: Mapped[int] = mapped_column(Integer, default=0)
    #: Places offered in the last follow-up question (their codes and labels), so the
    #: answer "1" or "Uông Bí" can pick one; None when no question is open.
    pending_places: Mapped[list | None] = mapped_column(JSON)
    #: Voice steps taken: each step's URL carries it, so a retried step is recognised
    #: and a repeated one (the caller chose "repeat") is not.
    step_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    callback_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    callback_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recording_url: Mapped[str | None] = mapped_column(EncryptedText)
    recording_sid: Mapped[str | None] = mapped_column(String(64))
    recording_seconds: Mapped[int | None] = mapped_column(Integer)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    abandoned_step: Mapped[str | None] = mapped_column(String(40))
    #: When the caller chose the counsellor: the hotline metrics (answer rate, service
    #: level, speed of answer) are measured from here, not from the greeting.
    counsellor_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the caller was put on hold because every operator was busy (None: not waiting).
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The answering operator's own call leg (moved into a conference for a transfer).
    operator_call_sid: Mapped[str | None] = mapped_column(String(64))
    #: The conference the call was moved to for a transfer (its friendly name).
    conference: Mapped[str | None] = mapped_column(String(64))
    #: The last inbound message an operator has seen: a conversation with later ones
    #: stays on the board, even after it was routed.
    seen_message_id: Mapped[int | None] = mapped_column(Integer)
    #: Voice: the last step's request (its receipt key) and the answer given to it
    #: (encrypted: it may name operators' phones), so a retry of that step gets the same
    #: answer; cleared when the call ends.
    answer_key: Mapped[str | None] = mapped_column(String(255))
    answer: Mapped[str | None] = mapped_column(PackedText)  # compressed: a menu's TwiML
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    messages: Mapped[list[Message]] = relationship(back_populates="contact", order_by="Message.id")


class Message(db.Model):
    """One SMS in or out of a conversation; the body is encrypted at rest.

    An operator's reply to a case's safe-contact number belongs to the case and to no
    conversation (``contact_id`` None); a reply inside the survivor's own conversation
    has both.
    """

    __tablename__ = "message"
    __table_args__ = (UniqueConstraint("provider", "provider_sid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    #: The operator who wrote it (replies from the workspace); None for automatic ones.
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    provider: Mapped[str] = mapped_column(String(20))
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str | None] = mapped_column(EncryptedText)
    media_count: Mapped[int] = mapped_column(Integer, default=0)
    segments: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="received")
    error_code: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contact: Mapped[Contact | None] = relationship(back_populates="messages")


class OptOut(db.Model):
    """A number that said STOP: the service starts no message to it until it says START."""

    __tablename__ = "opt_out"

    number_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SenderLock(db.Model):
    """A per-sender lock held while one inbound SMS is handled, never a stored row: the
    handler inserts the sender's hash and deletes it in the same transaction, so a second
    message from the same number waits (on the primary key) until the first commits and
    then finds its conversation instead of opening another."""

    __tablename__ = "sender_lock"

    number_hash: Mapped[str] = mapped_column(String(64), primary_key=True)


class CallLeg(db.Model):
    """A call the service started for a caller's call: an operator offered a waiting caller
    (``offer``) or a service point's duty phone brought into a transfer (``transfer``).

    ``sid`` is the provider's id of that call, known once the provider accepted it.
    """

    __tablename__ = "call_leg"
    __table_args__ = (UniqueConstraint("provider", "sid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # offer | transfer
    provider: Mapped[str] = mapped_column(String(20), default="twilio")
    sid: Mapped[str | None] = mapped_column(String(64))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_point.id"))
    mode: Mapped[str | None] = mapped_column(String(5))  # warm | cold (transfers)
    #: requested | ringing | answered | completed | unanswered | failed
    status: Mapped[str] = mapped_column(String(12), default="requested")
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contact: Mapped[Contact] = relationship()
