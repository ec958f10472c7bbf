"""Statistics: daily rollups of the published tables, the days waiting for a refresh, the
log of pushes to the reporting system (issue 7) and the numbers pushed, held fixed by the
joint suppression (issue 19; docs/statistics.md)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models import db
from models.types import UTCDateTime, utcnow


class StatRollup(db.Model):
    """Count of consented cases (or contacts) of one local day in one table cell.

    ``tbl`` names the table (``sex``, ``calls``, ``ind_support_access``…), ``k1`` is the
    former district code (or ``unknown``) and ``k2`` the table's other key. Reports sum
    these rows over a period instead of scanning the cases.
    """

    __tablename__ = "stat_rollup"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    tbl: Mapped[str] = mapped_column(String(32), primary_key=True)
    k1: Mapped[str] = mapped_column(String(16), primary_key=True)
    k2: Mapped[str] = mapped_column(String(48), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class StatDirtyDay(db.Model):
    """A local day whose rollup rows are stale; ``token`` changes at every new mark, so a
    refresh only clears the marks it has seen."""

    __tablename__ = "stat_dirty_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


class ReportPush(db.Model):
    """One push (and its retries) of a period's anonymised report to the reporting system.

    No copy of the payload: its content hash is in the idempotency key; the numbers it
    carried are kept cell by cell in :class:`PublishedValue` (held fixed by suppression).
    """

    __tablename__ = "report_push"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(24), index=True)
    area: Mapped[str] = mapped_column(String(8))
    format: Mapped[str] = mapped_column(String(8))
    idempotency_key: Mapped[str] = mapped_column(String(80), index=True)
    #: pending | delivered | retrying | failed | superseded
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    trigger: Mapped[str] = mapped_column(String(12), default="manual")  # manual | schedule
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    http_status: Mapped[int | None] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(40))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PublishedValue(db.Model):
    """One cell of one period as last pushed to the reporting system (``cell``: the JSON
    of ``[measure, [[dimension, code], …]]``, as :mod:`hotline.stats.tables` keys it).

    The receiver keeps what it was sent, so the joint suppression of the period's year
    holds it fixed (docs/statistics.md, "Suppression"): a cell ever pushed as a number
    (``published_value`` set) is known to anyone and never hidden to protect another;
    a cell pushed suppressed stays suppressed while its value (``value``, the true count
    at the push — the rollups hold the same counts) is unchanged. Anonymised counts only.
    """

    __tablename__ = "stat_published_value"

    period: Mapped[str] = mapped_column(String(24), primary_key=True)
    cell: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: The year of the period (the joint suppression reads a year's cells at once).
    year: Mapped[int] = mapped_column(Integer, index=True)
    #: The true count when last pushed, and whether it was pushed suppressed.
    value: Mapped[int] = mapped_column(BigInteger)
    suppressed: Mapped[bool] = mapped_column(Boolean)
    #: The last number pushed for the cell (kept when a later push suppresses it).
    published_value: Mapped[int | None] = mapped_column(BigInteger)
    first_pushed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    pushed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SuppressionPattern(db.Model):
    """A year's solved joint-suppression pattern (the cells the solver hid), keyed by the
    SHA-256 of the year's rollups and pushed cells (``hotline.stats.joint.content_hash``),
    so every process reuses a solve instead of repeating it. Anonymised: cell keys only."""

    __tablename__ = "stat_suppression_pattern"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    #: The hidden cells as JSON ``[[period code, key], …]``.
    hidden: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
