"""An anonymised report for a period and place: the published cells (suppressed where
needed), the plan indicators and the hotline metrics. Everything a manager sees and
everything pushed comes from here, so suppression cannot be forgotten on one path.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import delete, insert, select

from hotline.stats.definitions import (
    INDICATORS,
    PAYLOAD_DIMENSIONS,
    Indicator,
)
from hotline.stats.joint import (
    YearSolution,
    combine,
    content_hash,
    range_published,
    solution_from_pattern,
    solve_year,
    year_counts,
)
from hotline.stats.periods import Period, year
from hotline.stats.suppression import suppress
from hotline.stats.tables import COMMUNE, DISTRICT, Key, build_system, key
from routing.places import load_gazetteer

PROVINCE = "QN"
#: Dimension keys allowed in pushed cells (DESIGN.md section 9).
CONTRACT_KEYS = frozenset({DISTRICT, COMMUNE, *PAYLOAD_DIMENSIONS})


@cache
def places() -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Former district codes and the (district, 2025 commune) pairs that exist."""
    g = load_gazetteer()
    districts = tuple(d.code for d in g.districts)
    pairs = tuple((d, c) for d in districts for c in g.communes_of_district(d))
    return districts, pairs


def district_codes() -> tuple[str, ...]:
    return places()[0]


@dataclass
class Metric:
    code: str
    numerator: int | None = None
    denominator: int | None = None
    value: float | int | None = None
    target: float | None = None
    kind: str = "count"  # count | rate | seconds | minutes

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "value": self.value,
            "target": self.target,
        }


@dataclass
class Report:
    period: Period
    area: str  # PROVINCE or a former district code
    published: dict[Key, int | None]
    counts: dict[tuple[str, str, str], int] = field(repr=False)

    # --- cells ----------------------------------------------------------------------

    def key_of(self, measure: str, **dims: str) -> Key:
        """The key of a cell in this report's area."""
        if self.area != PROVINCE:
            dims = {DISTRICT: self.area, **dims}
        return key(measure, **dims)

    def value(self, measure: str, **dims: str) -> int | None:
        """The published value of a cell in this report's area (None: suppressed)."""
        return self.published.get(self.key_of(measure, **dims))

    def is_suppressed(self, measure: str, **dims: str) -> bool:
        return self.value(measure, **dims) is None

    def cells(self, measure: str = "cases", *, contract_only: bool = True) -> list[dict]:
        """Cells of the area as ``{"dimensions", "value", "suppressed"}``, in a stable order."""
        out = []
        for (m, dims), v in self.published.items():
            if m != measure:
                continue
            d = dict(dims)
            if contract_only and not set(d) <= CONTRACT_KEYS:
                continue
            if self.area != PROVINCE and d.get(DISTRICT) != self.area:
                continue
            out.append({"dimensions": d, "value": v, "suppressed": v is None})
        out.sort(key=lambda c: (len(c["dimensions"]), sorted(c["dimensions"].items())))
        return out

    def breakdown(self, dim: str, codes: list[str] | None = None) -> list[tuple[str, int | None]]:
        """(code, value) of the cases by one dimension in this area."""
        if codes is None:
            codes = sorted(
                {
                    dict(dims)[dim]
                    for (m, dims) in self.published
                    if m == "cases" and dim in dict(dims)
                }
            )
        return [(c, self.value("cases", **{dim: c})) for c in codes]

    def by_district(self, measure: str = "cases", **dims: str) -> list[tuple[str, int | None]]:
        """(district, value) over the province (a district's report shows only itself)."""
        ds = [self.area] if self.area != PROVINCE else [*district_codes(), "unknown"]
        return [(d, self.published.get(key(measure, **{DISTRICT: d, **dims}))) for d in ds]

    def communes(self) -> list[tuple[str, int | None]]:
        """(commune, value): commune totals for the province, or the district's parts."""
        if self.area == PROVINCE:
            return [
                (dict(dims)[COMMUNE], v)
                for (m, dims), v in self.published.items()
                if m == "cases" and tuple(k for k, _ in dims) == (COMMUNE,)
            ]
        return [
            (dict(dims)[COMMUNE], v)
            for (m, dims), v in self.published.items()
            if m == "cases" and dict(dims).get(DISTRICT) == self.area and COMMUNE in dict(dims)
        ]

    # --- indicators -----------------------------------------------------------------

    def indicator(self, ind: Indicator) -> Metric:
        m = f"ind:{ind.code}"
        num = self.value(m, part="met")
        den = self.value(m)
        return Metric(
            ind.code,
            numerator=num,
            denominator=den,
            value=_share(num, den),
            target=ind.target_for(self.period.start.year),
            kind="rate",
        )

    def indicators(self) -> list[Metric]:
        return [self.indicator(ind) for ind in INDICATORS]

    # --- hotline metrics ------------------------------------------------------------

    def _raw(self, tbl: str, k2: str = "") -> list[int]:
        ds = [self.area] if self.area != PROVINCE else None
        return [
            n
            for (t, d, k), n in self.counts.items()
            if t == tbl and k == k2 and (ds is None or d in ds)
        ]

    def ack_percentile(self, q: float) -> int | None:
        hist: dict[int, int] = defaultdict(int)
        for (t, d, k), n in self.counts.items():
            if t == "ack_minutes" and (self.area == PROVINCE or d == self.area):
                hist[int(k)] += n
        total = sum(hist.values())
        if not total:
            return None
        rank = max(1, math.ceil(q * total))
        cum = 0
        for bucket in sorted(hist):
            cum += hist[bucket]
            if cum >= rank:
                return bucket
        return None  # pragma: no cover

    def metrics(self) -> list[Metric]:
        offered = self.value("calls")
        answered = self.value("calls", result="answered")
        fast = self.value("calls", result="answered_fast")
        out = [
            Metric("CALLS_OFFERED", value=offered),
            Metric("CALLS_ANSWERED", value=answered),
            Metric("CALLS_ABANDONED", value=self.value("calls", result="abandoned")),
        ]
        out.append(
            Metric(
                "ANSWER_RATE",
                numerator=answered,
                denominator=offered,
                value=_share(answered, offered),
                kind="rate",
            )
        )
        out.append(
            Metric(
                "SERVICE_LEVEL_20S",
                numerator=fast,
                denominator=offered,
                value=_share(fast, offered),
                kind="rate",
            )
        )
        wait_sum = sum(self._raw("wait_sum"))
        out.append(
            Metric(
                "AVG_SPEED_OF_ANSWER_S",
                denominator=answered,
                value=round(wait_sum / answered, 1) if answered else None,
                kind="seconds",
            )
        )
        longest = max(self._raw("wait_max"), default=0)
        out.append(
            Metric(
                "LONGEST_WAIT_S",
                denominator=offered,
                value=longest if offered else None,
                kind="seconds",
            )
        )
        for (m, dims), _v in sorted(self.published.items()):
            d = dict(dims)
            if m == "abandoned" and set(d) == {"step"}:
                out.append(
                    Metric(
                        f"CALLS_ABANDONED_STEP_{d['step'].upper()}",
                        value=self.value("abandoned", step=d["step"]),
                    )
                )
        out += [
            Metric("VOICEMAILS", value=self.value("voicemail")),
            Metric("CALLBACKS_REQUESTED", value=self.value("callback")),
            Metric("SMS_CONVERSATIONS", value=self.value("sms")),
        ]
        acks = self.value("ack")
        for code, q in (("REFERRAL_ACK_MEDIAN_MIN", 0.5), ("REFERRAL_ACK_P90_MIN", 0.9)):
            out.append(
                Metric(
                    code,
                    denominator=acks,
                    value=self.ack_percentile(q) if acks else None,
                    kind="minutes",
                )
            )
        out.append(Metric("ESCALATIONS", value=self.value("escalation")))
        return out

    def metric(self, code: str) -> Metric:
        for m in self.metrics():
            if m.code == code:
                return m
        raise KeyError(code)


def _share(num: int | None, den: int | None) -> float | None:
    """A share, or None when either count is suppressed (a rate from a hidden count is
    hidden too) or the denominator is 0."""
    if num is None or den is None or den == 0:
        return None
    return round(num / den, 4)


def _priority(k: Key) -> int:
    """Complementary suppression takes inner cells before district totals, and those
    before province totals (the figures managers need most)."""
    return max(0, 2 - len(k[1]))


def _freeze(counts) -> tuple:
    return tuple(sorted(counts.items()))


@lru_cache(maxsize=64)
def _published_alone(frozen: tuple) -> dict[Key, int | None]:
    counts = dict(frozen)
    districts, pairs = places()
    system = build_system(counts, districts, pairs)
    hidden = suppress(system.values, system.equations, priority=_priority)
    return {k: (None if k in hidden else v) for k, v in system.values.items()}


def report_from_counts(counts: dict, period: Period, area: str | None = None) -> Report:
    """Pure: the report for rollup ``counts`` suppressed **alone** (one period's system,
    not jointly with the other periods of its year): for tests and tools only — every
    report shown or pushed comes from :func:`build_report`."""
    area = area or PROVINCE
    published = _published_alone(_freeze(counts))
    return Report(period=period, area=area, published=published, counts=dict(counts))


class _PatternCache:
    """Solved joint patterns per year, keyed by ``(year, content hash of the year's
    rollups and pushed cells)``: the same numbers are never solved twice in a process."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[tuple[int, str], YearSolution] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, str], solve) -> YearSolution:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        solution = solve()
        with self._lock:
            self._items[key] = solution
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return solution

    def cache_clear(self) -> None:
        with self._lock:
            self._items.clear()
        _published_alone.cache_clear()


#: The year patterns (``_published.cache_clear()`` forgets them, as benchmarks do).
_published = _PatternCache(maxsize=8)


def _stored_pattern(digest: str) -> list | None:
    """The hidden cells of a pattern solved before for exactly these counts and pushes."""
    from models import SuppressionPattern, db

    hidden = db.session.scalar(
        select(SuppressionPattern.hidden).where(SuppressionPattern.digest == digest)
    )
    if hidden is None:
        return None
    return [(code, (k[0], tuple(tuple(p) for p in k[1]))) for code, k in hidden]


def _store_pattern(y: int, digest: str, hidden) -> None:
    """Keep a solved pattern for every process, in a transaction of its own (a report is
    often read in a request that commits nothing); a twin solve stored first is fine.
    Patterns of older contents of the year go (a year's rollups change as cases come)."""
    from sqlalchemy.exc import SQLAlchemyError

    from models import SuppressionPattern, db
    from models.types import utcnow

    table = SuppressionPattern.__table__
    rows = sorted(([code, [k[0], [list(p) for p in k[1]]]] for code, k in hidden), key=repr)
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Never wait behind this process's own open write (it is only a cache).
            conn.exec_driver_sql("PRAGMA busy_timeout=200")
        try:
            conn.execute(delete(table).where(table.c.year == y, table.c.digest != digest))
            conn.execute(
                insert(table).values(digest=digest, year=y, hidden=rows, created_at=utcnow())
            )
            conn.commit()
        except SQLAlchemyError:
            conn.rollback()  # stored by another process at once (or not at all: a cache)
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA busy_timeout=10000")  # the app's setting
                conn.commit()


def year_solution(y: int) -> YearSolution:
    """The 15 periods of year ``y`` suppressed together, from the current rollups and the
    numbers already pushed (cached per content hash)."""
    from flask import g, has_request_context

    from hotline.stats.published import pushed_cells
    from hotline.stats.rollup import MAX_TABLES, read_monthly

    # One web request (a dashboard page reads a period, the one before and the months of
    # its trend) reads each year's rollups once.
    memo = g.setdefault("stats_year_solutions", {}) if has_request_context() else {}
    if y in memo:
        return memo[y]
    monthly = {d.month: c for d, c in read_monthly(year(y)).items()}
    pushed = pushed_cells(y)
    digest = content_hash(monthly, pushed.known, pushed.sticky)

    def solve() -> YearSolution:
        districts, pairs = places()
        counts = year_counts(y, monthly, MAX_TABLES)
        stored = _stored_pattern(digest)
        if stored is not None:  # solved before, by this process or another
            return solution_from_pattern(y, counts, districts, pairs, stored, known=pushed.known)
        solution = solve_year(
            y,
            counts,
            districts,
            pairs,
            priority=_priority,
            known=pushed.known,
            sticky=pushed.sticky,
        )
        _store_pattern(y, digest, solution.hidden)
        return solution

    memo[y] = _published.get((y, digest), solve)
    return memo[y]


def _report(period: Period, area: str, solutions: dict[int, YearSolution]) -> Report:
    from hotline.stats.rollup import MAX_TABLES

    for y in range(period.start.year, period.last_day.year + 1):
        if y not in solutions:
            solutions[y] = year_solution(y)
    if period.kind != "custom":
        sol = solutions[period.start.year]
        return Report(period, area, sol.published[period.code], dict(sol.counts[period.code]))
    counts = combine((solutions[m.start.year].counts[m.code] for m in period.months()), MAX_TABLES)
    districts, pairs = places()
    published = range_published(period, solutions, counts, districts, pairs)
    return Report(period=period, area=area, published=published, counts=counts)


def build_report(period: Period, area: str | None = None) -> Report:
    """The anonymised report of ``period`` for the province or one former district.

    Suppressed jointly with the other periods of its year (:mod:`hotline.stats.joint`);
    a custom range (whole months) publishes only what its years' periods already do.
    """
    return _report(period, area or PROVINCE, {})


def monthly_reports(period: Period, area: str | None = None) -> list[Report]:
    """One report per month of ``period`` (the charts over time), each suppressed exactly
    as that month's own report is (the same joint pattern)."""
    solutions: dict[int, YearSolution] = {}
    months = period.months()
    if len(months) <= 1:
        return [_report(months[0] if months else period, area or PROVINCE, solutions)]
    return [_report(m, area or PROVINCE, solutions) for m in months]


def warm_patterns(now=None) -> list[int]:
    """Solve (or find) the current and previous year's suppression patterns after the
    rollups changed, so dashboard and API requests find them stored instead of solving
    (job ``stats.warm_patterns``, after ``stats.refresh``); the years done."""
    from flask import current_app

    from hotline.stats.periods import local_day
    from hotline.stats.rollup import refresh_dirty
    from models.types import utcnow

    refresh_dirty()
    today = local_day(now or utcnow(), current_app.config["HOTLINE_TIMEZONE"])
    years = [today.year - 1, today.year]
    for y in years:
        year_solution(y)
    return years
