"""The dashboard's overview, as plain data: the KPI tiles with their change against the
previous period of the same length, and the plan indicators against their milestones.

Pure apart from the words (Babel): every number comes from a
:class:`hotline.stats.report.Report`, so suppression is already applied; a suppressed
value stays ``None`` here and is never turned into 0 or into a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l

from hotline.stats.definitions import INDICATORS, Indicator
from hotline.stats.periods import Period, PeriodError, custom, half, month, year
from hotline.stats.report import Metric, Report
from hotline.stats.views import Value

#: The KPI tiles, in order: (code, label, kind, better) where ``better`` is "up", "down" or
#: None (a change in the number of calls or cases is neither good nor bad in itself).
KPIS: tuple[tuple[str, object, str, str | None], ...] = (
    ("CALLS_OFFERED", _l("Calls offered"), "count", None),
    ("CALLS_ANSWERED", _l("Calls answered"), "count", "up"),
    ("ANSWER_RATE", _l("Answer rate"), "rate", "up"),
    ("SERVICE_LEVEL_20S", _l("Answered within 20 seconds"), "rate", "up"),
    ("AVG_SPEED_OF_ANSWER_S", _l("Average speed of answer"), "seconds", "down"),
    ("CASES", _l("Cases"), "count", None),
    ("REFERRALS_ACKNOWLEDGED", _l("Referrals acknowledged"), "count", "up"),
    ("REFERRAL_ACK_MEDIAN_MIN", _l("Median time to acknowledgement"), "minutes", "down"),
)


def previous_period(period: Period) -> Period | None:
    """The period of the same length just before ``period`` (previous month, half-year,
    year; for a custom range of whole months the same number of months before, else the
    same number of days), or None when that falls outside the years reported on."""
    try:
        if period.kind == "month":
            first = period.start - timedelta(days=1)
            return month(first.year, first.month)
        if period.kind == "half":
            if period.start.month == 1:
                return half(period.start.year - 1, 2)
            return half(period.start.year, 1)
        if period.kind == "year":
            return year(period.start.year - 1)
        if period.start.day == 1 and period.end.day == 1:
            n = len(period.months())
            y, m = period.start.year, period.start.month - n
            while m < 1:
                y, m = y - 1, m + 12
            return custom(date(y, m, 1), period.start - timedelta(days=1))
        return custom(period.start - timedelta(days=period.days), period.start - timedelta(days=1))
    except PeriodError:
        return None


@dataclass(frozen=True)
class Change:
    """How a KPI moved: ``delta`` in ``unit`` ("percent" of the previous value for counts,
    "points" for rates, "seconds"/"minutes" for times), or ``reason`` why there is none."""

    delta: float | None
    unit: str
    #: no_previous | previous_zero | previous_suppressed | suppressed | not_applicable |
    #: previous_not_applicable
    reason: str | None = None

    @property
    def direction(self) -> str | None:
        if self.delta is None:
            return None
        if abs(self.delta) < 1e-9:
            return "same"
        return "up" if self.delta > 0 else "down"


UNITS = {"count": "percent", "rate": "points", "seconds": "seconds", "minutes": "minutes"}


def change(current: Value, previous: Value | None) -> Change:
    """The change from ``previous`` to ``current``. A relative change is given only when
    both counts are published and the previous one is not 0; a rate moves in percentage
    points and a time in its own unit, which stay meaningful from 0."""
    unit = UNITS[current.kind]
    if previous is None:
        return Change(None, unit, "no_previous")
    if previous.v is None:
        return Change(None, unit, "previous_suppressed")
    if current.v is None:
        return Change(None, unit, "suppressed")
    if unit == "percent":
        if previous.v == 0:
            return Change(None, unit, "previous_zero")
        return Change(round((current.v - previous.v) / previous.v * 100, 1), unit)
    if unit == "points":
        return Change(round((current.v - previous.v) * 100, 1), unit)
    return Change(round(current.v - previous.v, 1), unit)


@dataclass
class Kpi:
    code: str
    label: str
    #: None: the measure does not apply in this period (a rate over no calls).
    value: Value | None
    previous: Value | None
    change: Change
    better: str | None

    @property
    def verdict(self) -> str | None:
        """ "better", "worse" or None (no change, no data, or neither is better)."""
        d = self.change.direction
        if self.better is None or d in (None, "same"):
            return None
        return "better" if d == self.better else "worse"


def kpi_values(report: Report) -> dict[str, Value | None]:
    """The KPI values of one report: a ``Value`` (``v`` None where suppressed), or None
    where the measure does not apply (a rate or a time over nothing: no calls offered,
    none answered, no referral acknowledged)."""
    metrics: dict[str, Metric] = {m.code: m for m in report.metrics()}
    out: dict[str, Value | None] = {}
    for code, _label, kind, _better in KPIS:
        if code == "CASES":
            out[code] = Value(report.value("cases"), kind)
        elif code == "REFERRALS_ACKNOWLEDGED":
            out[code] = Value(report.value("ack"), kind)
        else:
            m = metrics[code]
            undefined = m.value is None and kind != "count" and m.denominator == 0
            out[code] = None if undefined else Value(m.value, kind)
    return out


def kpis(report: Report, previous: Report | None) -> list[Kpi]:
    now = kpi_values(report)
    before = kpi_values(previous) if previous is not None else None
    out = []
    for code, label, kind, better in KPIS:
        value = now[code]
        prev = before[code] if before is not None else None
        if value is None:
            c = Change(None, UNITS[kind], "not_applicable")
        elif before is not None and prev is None:
            c = Change(None, UNITS[kind], "previous_not_applicable")
        else:
            c = change(value, prev)
        out.append(Kpi(code, str(label), value, prev, c, better))
    return out


@dataclass
class IndicatorProgress:
    code: str
    plan_ref: str
    share: Value
    numerator: Value
    denominator: Value
    #: The plan's milestones: (year, target share).
    milestones: tuple[tuple[int, float], ...]
    #: The milestone that applies to the period's year.
    target: float

    @property
    def target_value(self) -> Value:
        return Value(self.target, "rate")

    @property
    def milestone_values(self) -> list[tuple[int, Value]]:
        return [(y, Value(t, "rate")) for y, t in self.milestones]

    @property
    def status(self) -> str:
        """ "met", "below" or "no_data" against the target for the period's year."""
        if self.share.v is None:
            return "no_data"
        return "met" if self.share.v >= self.target - 1e-9 else "below"


def indicator_progress(report: Report) -> list[IndicatorProgress]:
    out = []
    for ind, m in zip(INDICATORS, report.indicators(), strict=True):
        out.append(_progress(ind, m))
    return out


def _progress(ind: Indicator, m: Metric) -> IndicatorProgress:
    return IndicatorProgress(
        code=ind.code,
        plan_ref=ind.plan_ref,
        share=Value(m.value, "rate"),
        numerator=Value(m.numerator),
        denominator=Value(m.denominator),
        milestones=ind.targets,
        target=m.target if m.target is not None else ind.targets[-1][1],
    )


def trend_period(period: Period) -> Period:
    """The months the trend chart covers: the period's own months, or for a single month
    the year to date (its year's months up to it). Staying inside the year keeps the
    view to one year's jointly suppressed pattern (a second year costs a second solve)."""
    if len(period.months()) > 1 or period.start.month == 1:
        return period
    try:
        return custom(date(period.start.year, 1, 1), period.last_day)
    except PeriodError:
        return period
