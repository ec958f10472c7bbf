"""Cases, their routing to service points, alerts and follow-ups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.directory import ServicePoint
from models.types import EncryptedText, UTCDateTime, utcnow


class Case(db.Model):
    """An intake: who (coded, never named), where, what happened, risk, needs and consent.

    Coded fields feed the statistics; ``notes`` and the safe-contact phone are personal
    data, encrypted and shredded after the retention period.
    """

    __tablename__ = "hotline_case"
    #: The case list pages newest first by (created_at, id).
    __table_args__ = (Index("ix_hotline_case_created_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    commune_code: Mapped[str | None] = mapped_column(String(5), index=True)
    district_code: Mapped[str | None] = mapped_column(String(3), index=True)
    survivor_sex: Mapped[str] = mapped_column(String(10), default="unknown")
    survivor_age_band: Mapped[str] = mapped_column(String(10), default="unknown")
    perpetrator_relationship: Mapped[str | None] = mapped_column(String(40))
    perpetrator_sex: Mapped[str | None] = mapped_column(String(10))
    perpetrator_age_band: Mapped[str | None] = mapped_column(String(10))
    #: Recorded at outcome time (plan indicator PERPETRATOR_COUNSELLING): whether the
    #: perpetrator is being criminally prosecuted, and whether they received counselling.
    #: None = not recorded yet.
    perpetrator_prosecuted: Mapped[bool | None] = mapped_column(Boolean)
    perpetrator_counselled: Mapped[bool | None] = mapped_column(Boolean)
    risk: Mapped[str] = mapped_column(String(10), index=True)
    consent_referral: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_reporting: Mapped[bool] = mapped_column(Boolean, default=False)
    safe_channel: Mapped[str] = mapped_column(String(10), default="none")
    safe_phone: Mapped[str | None] = mapped_column(EncryptedText)
    #: Keyed hash of the safe phone: a search by number finds the case without decrypting.
    safe_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    safe_hours: Mapped[str | None] = mapped_column(String(11))  # HH:MM-HH:MM
    notes: Mapped[str | None] = mapped_column(EncryptedText)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    #: The routing decision as made (primary, alternates, reason) for escalation and audit.
    routing: Mapped[dict | None] = mapped_column(JSON)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Set when the consented follow-ups were scheduled (the scheduler skips these cases).
    follow_ups_scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when the commune People's Committee notification was queued (Law 13/2022).
    commune_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    codes: Mapped[list[CaseCode]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    referrals: Mapped[list[Referral]] = relationship(back_populates="case", order_by="Referral.id")

    def coded(self, dimension: str) -> list[str]:
        """Codes of one dimension (violence_type, context, need), sorted."""
        return sorted(c.code for c in self.codes if c.dimension == dimension)


class CaseCode(db.Model):
    """One coded value of a multi-valued case field: violence types, contexts, needs.

    A row per value (not a JSON list) so the statistics can group by them in SQL.
    """

    __tablename__ = "case_code"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("hotline_case.id", ondelete="CASCADE"), primary_key=True
    )
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)

    case: Mapped[Case] = relationship(back_populates="codes")


class Referral(db.Model):
    """A case handed to one service point; the first step of its fallback chain is 0."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"), index=True)
    step: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    urgency: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    chosen_by: Mapped[str] = mapped_column(String(10), default="routing")  # routing | operator
    override_reason: Mapped[str | None] = mapped_column(EncryptedText)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    acknowledged_via: Mapped[str | None] = mapped_column(String(10))  # sms | link | inbox | api
    #: Why the point declined: no_capacity | out_of_area | not_our_service | unreachable | other
    decline_code: Mapped[str | None] = mapped_column(String(20))
    #: The words the point added to a decline (personal data: encrypted, shredded).
    decline_reason: Mapped[str | None] = mapped_column(EncryptedText)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the point declined, or when the chain moved past it unacknowledged (expired).
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: service_received | not_reached | refused_by_survivor | referred_elsewhere
    outcome: Mapped[str | None] = mapped_column(String(30))
    #: An accepted referral that needs shelter holds one of the point's beds until its outcome.
    holds_bed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    services_received: Mapped[list | None] = mapped_column(JSON)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_notes: Mapped[str | None] = mapped_column(EncryptedText)
    #: Acknowledged but no outcome: when the point was reminded, and when the provincial
    #: centre was told (each once).
    outcome_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_overdue_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    case: Mapped[Case] = relationship(back_populates="referrals")
    service_point: Mapped[ServicePoint] = relationship()


class Alert(db.Model):
    """A message to a service point's duty phone about a referral (or an escalation).

    ``provider_sid`` is recorded with the send so a retried job never sends twice.
    """

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"))
    kind: Mapped[str] = mapped_column(String(20), default="referral")
    to_phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(String(10))
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    referral: Mapped[Referral] = relationship()


class FollowUp(db.Model):
    """A neutral check-in with a survivor who consented, on their safe channel and hours."""

    __tablename__ = "follow_up"
    __table_args__ = (UniqueConstraint("case_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # e.g. day3, day14
    channel: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: scheduled | sent | due_call (an operator should call) | skipped | cancelled | failed
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    #: Keyed hash of the safe phone, so an opt-out cancels the follow-up without decrypting.
    number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(String(10))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
