"""Telephony records that are not contacts: the development outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
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
