"""Every SMS the service starts itself, recorded before it is handed to the provider.

One row per piece of work (``key``: ``alert:12``, ``followup:7``, ``reminder:3:3d``, …), so
a job that runs twice, or is killed after the provider accepted the message, still sends
one SMS: the row is claimed ("sending") and committed before the provider call, and a
retry of a claimed row first asks the provider whether the message went out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models import db
from models.types import EncryptedText, UTCDateTime, utcnow


class OutboundSms(db.Model):
    """One message to send at most once. Holds no phone number: the job derives it again
    from the row it is about (service point, user or case)."""

    __tablename__ = "outbound_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    #: alert | follow_up | reminder | callback | committee | escalation_exhausted
    purpose: Mapped[str] = mapped_column(String(30), index=True)
    #: Who it goes to, as a code ("service_point:12", "user:3", "survivor"), never a number.
    recipient: Mapped[str | None] = mapped_column(String(60))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    #: pending | sending (claimed: the provider may have it) | sent | failed | skipped
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: The text exactly as first rendered; retries resend and look up this same text.
    body: Mapped[str | None] = mapped_column(EncryptedText)
    first_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(String(20))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
