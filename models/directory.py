"""The service directory: trusted addresses, shelters, centres and other points of help."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models import db
from models.types import UTCDateTime, utcnow


class ServicePoint(db.Model):
    """One place that can act on a referral, with its public and duty phones.

    ``phone`` may be told to callers; ``alert_phone`` is the duty phone that receives
    alerts and is never told to callers. Place: a 2025 commune, or a pre-2025 district for
    district-wide points, or neither for province-wide points.
    """

    __tablename__ = "service_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30), index=True)
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("commune.code"), index=True)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("district.code"), index=True)
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    alert_phone: Mapped[str | None] = mapped_column(String(20))
    # ';'-separated directory service codes, as in the CSV (see routing.codes.SERVICES).
    services: Mapped[str] = mapped_column(String(200), default="")
    hours: Mapped[str] = mapped_column(String(200), default="24/7")
    capacity: Mapped[int | None] = mapped_column(Integer)
    occupancy: Mapped[int] = mapped_column(Integer, default=0)
    #: When the free beds were last set (by the shelter, its alert page or an accepted
    #: referral); None while only the directory file's capacity is known.
    beds_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A neutral name used in SMS replies to survivors instead of ``name`` (optional), so a
    #: shared phone never shows what kind of place it is.
    sms_name: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Rows created by ``demo load``: fictitious, never to be routed to in production.
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def free_beds(self) -> int | None:
        """Beds free now, or None when the point lists no capacity."""
        return None if self.capacity is None else max(0, self.capacity - (self.occupancy or 0))

    @property
    def service_list(self) -> list[str]:
        return [s for s in self.services.split(";") if s]


class DirectoryVersion(db.Model):
    """The directory's version: one row (``id`` 1) whose counter the database itself moves
    on at every insert, update or delete of a service point (triggers, migration 0019).

    Routing keeps the directory in memory per version (``hotline.directory.decisions``);
    every process reads this one row with what it reads anyway, so an edit made anywhere,
    by any means, is seen by the next request of every process, at the cost of one
    primary-key lookup however large the directory grows."""

    __tablename__ = "directory_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
