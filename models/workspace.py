"""The operators' workspace: notes on cases, and tasks waiting for an operator."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models import db
from models.types import EncryptedText, UTCDateTime, utcnow


class CaseNote(db.Model):
    """A note an operator adds to a case after the intake; personal data (encrypted,
    audit-read with the case, shredded by retention like the intake's own notes)."""

    __tablename__ = "case_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    text: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Task(db.Model):
    """Work waiting for an operator (DESIGN.md section 11): a voicemail, a callback
    request, a consented follow-up call that is due, a case no point accepted, an SMS
    conversation that reached the provincial centre without a place.

    ``key`` names what the task is about (``voicemail:contact:12``), so the code that
    notices the work can create it more than once and still get one task.
    """

    __tablename__ = "task"
    __table_args__ = (Index("ix_task_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    #: voicemail | callback | follow_up_call | referral_declined | sms_unrouted
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | done
    case_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_up.id"))
    #: reached | no_answer | unsafe | not_needed
    outcome: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(EncryptedText)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
