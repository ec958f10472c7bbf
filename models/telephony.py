"""Telephony records that are not contacts: webhook receipts and the development outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models import db
from models.types import EncryptedText, UTCDateTime, utcnow


class DevOutboxMessage(db.Model):
    """An SMS the service would have sent, kept instead when Twilio is not configured
    (development only; production requires credentials)."""

    __tablename__ = "dev_outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    to: Mapped[str] = mapped_column(EncryptedText)
    body: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WebhookReceipt(db.Model):
    """The answer given to one provider request, so a retry gets the same answer and
    creates nothing new.

    ``key`` names the request: the message or call id, the step's path and query, and the
    provider's idempotency token when it sent one. The answer may name staff numbers
    (a ``<Dial>``), so it is encrypted.
    """

    __tablename__ = "webhook_receipt"
    __table_args__ = (UniqueConstraint("provider", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(255))
    status_code: Mapped[int] = mapped_column(Integer, default=200)
    content_type: Mapped[str] = mapped_column(String(60))
    response: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
