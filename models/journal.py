"""The inbound journal: what a webhook received and what it answered, recorded before the
answer leaves (DESIGN.md section 10, "journal first").

A webhook does the least that keeps a message safe — check the signature, read the
sender's conversation state, decide the reply with the pure routing engine over the cached
directory, write one row, commit — and answers. The worker turns the row into the contact,
messages, case, referral, alert, outbox, audit and statistics rows, exactly once and in
order per sender (``hotline/conversations/journal.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models import db
from models.types import EncryptedText, UTCDateTime, utcnow


class InboundJournal(db.Model):
    """One inbound message as received, with the reply given and the decision made.

    ``decision`` holds codes only (the conversation step, the place and routing record, the
    conversation state after this message); the texts are encrypted. ``processed_at`` is
    set in the same transaction as the rows the worker makes from it.
    """

    __tablename__ = "inbound_journal"
    __table_args__ = (
        UniqueConstraint("provider", "provider_sid"),
        Index(
            "ix_inbound_journal_unprocessed",
            "id",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
        Index("ix_inbound_journal_sender", "sender_hash", "id"),
        # A sender's unprocessed entries, read by every SMS webhook and by the worker: one
        # probe however many entries wait for the worker (a flood), whatever the planner's
        # statistics say (migration 0020).
        Index(
            "ix_inbound_journal_sender_unprocessed",
            "sender_hash",
            "id",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_sid: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(10), default="sms")
    sender_hash: Mapped[str | None] = mapped_column(String(64))
    sender: Mapped[str | None] = mapped_column(EncryptedText)
    to_number: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str | None] = mapped_column(EncryptedText)
    media_count: Mapped[int] = mapped_column(Integer, default=0)
    reply: Mapped[str | None] = mapped_column(EncryptedText)
    decision: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(String(60))
