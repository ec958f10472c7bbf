"""Daily rollups: the published tables pre-aggregated per local day, kept fresh
incrementally, so a report over a year reads a few hundred thousand small rows at most
instead of a million cases (docs/statistics.md, "Speed").

Whenever a flush touches a case, its codes or referrals, an alert or a contact, the
local day it belongs to is marked dirty in the same transaction (:func:`init_rollup`
registers the session hook). :func:`refresh_dirty` recomputes the dirty days; every
report calls it first, so it always reads current numbers.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import bindparam, delete, event, func, insert, inspect, or_, select, text
from sqlalchemy.orm import Session

from hotline.jobs import registry
from hotline.stats.definitions import CaseFacts, ContactFacts, case_rows, contact_rows
from hotline.stats.periods import Period, local_day
from models import (
    Alert,
    Case,
    CaseCode,
    Contact,
    Referral,
    StatDirtyDay,
    StatRollup,
    db,
)
from models.quick import Statement

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
#: Tables summed with MAX instead of SUM.
MAX_TABLES = frozenset({"wait_max"})
#: Days recomputed per query batch.
BATCH_DAYS = 7
#: Case ids per query when reading codes and referrals.
ID_CHUNK = 2000

_registered = False


def timezone_name() -> str:
    if has_app_context():
        return current_app.config.get("HOTLINE_TIMEZONE") or DEFAULT_TIMEZONE
    return DEFAULT_TIMEZONE


# --- marking dirty days -------------------------------------------------------------


def init_rollup() -> None:
    """Register the flush hook that marks days dirty (once per process)."""
    global _registered
    if not _registered:
        event.listen(FlaskSession, "before_flush", _before_flush)
        event.listen(FlaskSession, "after_flush", _after_flush)
        for name in ("after_commit", "after_soft_rollback"):
            event.listen(FlaskSession, name, _forget_marked_days)
        _registered = True


_OLD = "stats_old_instants"
#: Days already marked dirty in the session's current transaction: a webhook flushes
#: several times, and one mark per day per transaction is enough.
_MARKED = "stats_marked_days"


def _forget_marked_days(session: Session, *_args) -> None:
    session.info.pop(_MARKED, None)


def _loaded(session: Session, model: type, pk: int):
    """The object from the session's identity map, or None (never a query)."""
    return session.identity_map.get(inspect(model).identity_key_from_primary_key((pk,)))


def _created_at_of(session: Session, case_id: int) -> datetime | None:
    """A case's creation time from the identity map when it is loaded (no query)."""
    case = _loaded(session, Case, case_id)
    if case is not None and "created_at" in case.__dict__:
        return case.created_at
    return None


def _before_flush(session: Session, _context, _instances) -> None:
    """A case (or contact) moved to another time: its old day, still in the database
    before this flush, is stale too (an expired attribute has no history to read)."""
    for model, attr in ((Case, "created_at"), (Contact, "started_at")):
        ids = [
            o.id
            for o in session.dirty
            if isinstance(o, model)
            and o.id is not None
            and inspect(o).attrs[attr].history.has_changes()
        ]
        if ids:
            old = session.execute(select(getattr(model, attr)).where(model.id.in_(ids))).scalars()
            session.info.setdefault(_OLD, []).extend(old)


def _after_flush(session: Session, _context) -> None:
    touched = [*session.new, *session.dirty, *session.deleted]
    instants = session.info.pop(_OLD, [])
    if not touched and not instants:
        return
    case_ids: set[int] = set()
    referral_ids: set[int] = set()
    for obj in touched:
        if isinstance(obj, Case | Contact):
            attr = "created_at" if isinstance(obj, Case) else "started_at"
            # The day it was on before a change of its timestamp is stale too.
            history = inspect(obj).attrs[attr].history
            instants += [v for v in (*history.added, *history.deleted) if v is not None]
            if getattr(obj, attr) is not None:
                instants.append(getattr(obj, attr))
        elif isinstance(obj, CaseCode | Referral) and obj.case_id is not None:
            case_ids.add(obj.case_id)
        elif isinstance(obj, Alert) and obj.referral_id is not None:
            # Its referral, when at hand (flushed with it, or loaded): no query.
            referral = obj.__dict__.get("referral") or _loaded(session, Referral, obj.referral_id)
            if referral is not None and referral.case_id is not None:
                case_ids.add(referral.case_id)
            else:
                referral_ids.add(obj.referral_id)
    conn = session.connection()
    for case_id in list(case_ids):
        known = _created_at_of(session, case_id)
        if known is not None:
            instants.append(known)
            case_ids.discard(case_id)
    if case_ids:
        instants += conn.scalars(select(Case.created_at).where(Case.id.in_(case_ids))).all()
    if referral_ids:
        instants += conn.scalars(
            select(Case.created_at)
            .join(Referral, Referral.case_id == Case.id)
            .where(Referral.id.in_(referral_ids))
        ).all()
    if not instants:
        return
    tz = ZoneInfo(timezone_name())
    days = {local_day(_aware(instant), tz) for instant in instants}
    marked = session.info.setdefault(_MARKED, set())
    mark_dirty(days - marked, connection=conn)
    marked.update(days)


def _aware(instant: datetime) -> datetime:
    # SQLite hands back naive UTC through raw selects.
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant


def mark_instants_dirty(instants: Iterable[datetime]) -> None:
    """Mark the local days of these instants (cases' creation times) for recomputation:
    for changes made by a direct UPDATE, which the flush hook does not see."""
    tz = ZoneInfo(timezone_name())
    mark_dirty({local_day(_aware(instant), tz) for instant in instants})


#: A day marked (its token renewed when it already was): written once, run on the driver's
#: connection by a webhook (:mod:`models.quick`) and through SQLAlchemy by
#: :func:`mark_dirty`.
MARK_DAY = Statement(
    "INSERT INTO stat_dirty_day (day, token) VALUES (:day, :token)"
    " ON CONFLICT (day) DO UPDATE SET token = excluded.token",
    params={"day": StatDirtyDay.__table__.c.day.type},
)


#: :data:`MARK_DAY` for SQLAlchemy connections (the flush hook's, the session's).
_MARK_DAY_SQL = text(MARK_DAY.sql).bindparams(
    bindparam("day", type_=StatDirtyDay.__table__.c.day.type)
)


def day_mark(instant: datetime) -> dict[str, object]:
    """:data:`MARK_DAY`'s values for the local day of this instant."""
    return {
        "day": local_day(_aware(instant), ZoneInfo(timezone_name())),
        "token": secrets.token_hex(8),
    }


def mark_dirty(days: Iterable[date], *, connection=None) -> None:
    """Mark local days for recomputation (a new token each time: see StatDirtyDay)."""
    days = sorted(set(days))
    if not days:
        return
    conn = connection if connection is not None else db.session.connection()
    token = secrets.token_hex(8)
    rows = [{"day": d, "token": token} for d in days]
    conn.execute(_MARK_DAY_SQL, rows)


# --- recomputing ----------------------------------------------------------------------


def refresh_dirty() -> int:
    """Recompute every dirty day and clear the marks seen; returns the number of days."""
    marks = db.session.execute(select(StatDirtyDay.day, StatDirtyDay.token)).all()
    if not marks:
        return 0
    rebuild_days(sorted(m.day for m in marks))
    for m in marks:
        db.session.execute(
            delete(StatDirtyDay).where(StatDirtyDay.day == m.day, StatDirtyDay.token == m.token)
        )
    db.session.commit()
    return len(marks)


def rebuild(start: date, end: date, *, progress=None) -> int:
    """Recompute local days ``start`` (inclusive) to ``end`` (exclusive); commits."""
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    n = rebuild_days(days, progress=progress)
    db.session.commit()
    return n


def _runs(days: list[date]) -> Iterator[tuple[date, date]]:
    """Consecutive days grouped into [first, end) batches of at most BATCH_DAYS."""
    run_start = prev = None
    for d in days:
        if run_start is None:
            run_start = prev = d
            continue
        if d == prev + timedelta(days=1) and (d - run_start).days < BATCH_DAYS:
            prev = d
            continue
        yield run_start, prev + timedelta(days=1)
        run_start = prev = d
    if run_start is not None:
        yield run_start, prev + timedelta(days=1)


def rebuild_days(days: list[date], *, progress=None) -> int:
    """Recompute the rollup rows of these local days (in the current transaction)."""
    tzname = timezone_name()
    written = 0
    for first, end in _runs(sorted(set(days))):
        period = Period("custom", "", first, end)
        lo, hi = period.utc_bounds(tzname)
        totals: dict[tuple[date, str, str, str], int] = defaultdict(int)
        for day, rows in _case_rows(lo, hi, tzname):
            _add(totals, day, rows)
        for day, rows in _contact_rows(lo, hi, tzname):
            _add(totals, day, rows)
        db.session.execute(delete(StatRollup).where(StatRollup.day >= first, StatRollup.day < end))
        if totals:
            db.session.execute(
                insert(StatRollup),
                [
                    {"day": d, "tbl": t, "k1": k1, "k2": k2, "n": n}
                    for (d, t, k1, k2), n in totals.items()
                ],
            )
        written += len(totals)
        if progress is not None:
            progress((end - first).days)
    return written


def _add(totals, day: date, rows) -> None:
    for tbl, k1, k2, n in rows:
        key = (day, tbl, k1, k2)
        if tbl in MAX_TABLES:
            totals[key] = max(totals.get(key, 0), n)
        else:
            totals[key] += n


def _case_rows(lo, hi, tzname: str):
    tz = ZoneInfo(tzname)
    in_range = (Case.consent_reporting.is_(True), Case.created_at >= lo, Case.created_at < hi)
    facts: dict[int, tuple[date, CaseFacts]] = {}
    for r in db.session.execute(
        select(
            Case.id,
            Case.created_at,
            Case.district_code,
            Case.commune_code,
            Case.survivor_sex,
            Case.survivor_age_band,
            Case.channel,
            Case.risk,
            Case.perpetrator_relationship,
            Case.perpetrator_prosecuted,
            Case.perpetrator_counselled,
        ).where(*in_range)
    ):
        facts[r.id] = (
            local_day(r.created_at, tz),
            CaseFacts(
                district_code=r.district_code,
                commune_code=r.commune_code,
                survivor_sex=r.survivor_sex,
                survivor_age_band=r.survivor_age_band,
                channel=r.channel,
                risk=r.risk,
                perpetrator_relationship=r.perpetrator_relationship,
                perpetrator_prosecuted=r.perpetrator_prosecuted,
                perpetrator_counselled=r.perpetrator_counselled,
            ),
        )
    if not facts:
        return []
    sets = {"violence_type": "violence_types", "context": "contexts", "need": "needs"}
    ids = list(facts)
    # By explicit ids, not a join on the time range: the planner would hash-join whole
    # tables where a few thousand index lookups do.
    for chunk in (ids[i : i + ID_CHUNK] for i in range(0, len(ids), ID_CHUNK)):
        for case_id, dimension, code in db.session.execute(
            select(CaseCode.case_id, CaseCode.dimension, CaseCode.code).where(
                CaseCode.case_id.in_(chunk)
            )
        ):
            attr = sets.get(dimension)
            if attr:
                getattr(facts[case_id][1], attr).add(code)
        for case_id, created_at, acknowledged_at, services in db.session.execute(
            select(
                Referral.case_id,
                Referral.created_at,
                Referral.acknowledged_at,
                Referral.services_received,
            ).where(Referral.case_id.in_(chunk))
        ):
            f = facts[case_id][1]
            f.referred = True
            if services:
                f.service_received = True
            if acknowledged_at is not None and created_at is not None:
                f.ack_minutes.append(int((acknowledged_at - created_at).total_seconds() // 60))
        for case_id, n in db.session.execute(
            select(Referral.case_id, func.count(Alert.id))
            .join(Alert, Alert.referral_id == Referral.id)
            .where(Referral.case_id.in_(chunk), Alert.escalated_at.is_not(None))
            .group_by(Referral.case_id)
        ):
            facts[case_id][1].escalations = n
    return [(day, case_rows(f)) for day, f in facts.values()]


def _contact_rows(lo, hi, tzname: str):
    tz = ZoneInfo(tzname)
    voicemail = [Contact.recording_url.is_not(None)]
    if hasattr(Contact, "recording_sid"):
        voicemail.append(Contact.recording_sid.is_not(None))
    out = []
    for r in db.session.execute(
        select(
            Contact.channel,
            Contact.district_code,
            Contact.started_at,
            Contact.answered_at,
            Contact.ended_at,
            Contact.abandoned_step,
            Contact.ivr_step,
            or_(*voicemail).label("voicemail"),
            Contact.callback_requested,
            Contact.counsellor_requested_at,
        ).where(Contact.started_at >= lo, Contact.started_at < hi)
    ):
        facts = ContactFacts(
            channel=r.channel,
            district_code=r.district_code,
            started_at=r.started_at,
            answered_at=r.answered_at,
            ended_at=r.ended_at,
            abandoned_step=r.abandoned_step,
            ivr_step=r.ivr_step,
            voicemail=bool(r.voicemail),
            callback_requested=bool(r.callback_requested),
            counsellor_requested_at=r.counsellor_requested_at,
        )
        out.append((local_day(r.started_at, tz), contact_rows(facts)))
    return out


# --- reading ----------------------------------------------------------------------------


def read_counts(period: Period) -> dict[tuple[str, str, str], int]:
    """``(table, district, key) → n`` summed (MAX for maxima) over the period's days."""
    refresh_dirty()
    out: dict[tuple[str, str, str], int] = {}
    for tbl, k1, k2, total, biggest in db.session.execute(
        select(
            StatRollup.tbl,
            StatRollup.k1,
            StatRollup.k2,
            func.sum(StatRollup.n),
            func.max(StatRollup.n),
        )
        .where(StatRollup.day >= period.start, StatRollup.day < period.end)
        .group_by(StatRollup.tbl, StatRollup.k1, StatRollup.k2)
    ):
        out[(tbl, k1, k2)] = int(biggest if tbl in MAX_TABLES else total)
    return out


def read_monthly(period: Period) -> dict[date, dict[tuple[str, str, str], int]]:
    """Per calendar month (its first day): what :func:`read_counts` gives for the part of
    the month inside ``period`` — one grouped query for the charts over time."""
    refresh_dirty()
    if db.session.get_bind().dialect.name == "postgresql":
        bucket = func.date_trunc("month", StatRollup.day)
    else:
        bucket = func.strftime("%Y-%m-01", StatRollup.day)
    out: dict[date, dict[tuple[str, str, str], int]] = defaultdict(dict)
    for first, tbl, k1, k2, total, biggest in db.session.execute(
        select(
            bucket,
            StatRollup.tbl,
            StatRollup.k1,
            StatRollup.k2,
            func.sum(StatRollup.n),
            func.max(StatRollup.n),
        )
        .where(StatRollup.day >= period.start, StatRollup.day < period.end)
        .group_by(bucket, StatRollup.tbl, StatRollup.k1, StatRollup.k2)
    ):
        if isinstance(first, str):
            first = date.fromisoformat(first)
        elif isinstance(first, datetime):
            first = first.date()
        out[first][(tbl, k1, k2)] = int(biggest if tbl in MAX_TABLES else total)
    return out


def read_daily(period: Period, tables: Iterable[str]) -> dict[date, dict[tuple, int]]:
    """Per local day: ``(table, district, key) → n`` for some tables (charts over time)."""
    refresh_dirty()
    out: dict[date, dict[tuple, int]] = defaultdict(dict)
    for day, tbl, k1, k2, n in db.session.execute(
        select(StatRollup.day, StatRollup.tbl, StatRollup.k1, StatRollup.k2, StatRollup.n).where(
            StatRollup.day >= period.start,
            StatRollup.day < period.end,
            StatRollup.tbl.in_(list(tables)),
        )
    ):
        out[day][(tbl, k1, k2)] = int(n)
    return out


registry.add("stats.refresh", refresh_dirty)


def _warm_patterns() -> list[int]:
    from hotline.stats.report import warm_patterns

    return warm_patterns()


registry.add("stats.warm_patterns", _warm_patterns)
