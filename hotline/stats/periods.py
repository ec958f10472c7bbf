"""Reporting periods: a month ``2026-11``, a half-year ``2026-S1`` / ``2026-S2``, a year
``2026``, or (dashboard, API and ``report show`` only; never pushed) a custom range of
whole months ``2026-02..2026-04`` (also written with dates, ``2026-02-01..2026-04-30``).

A custom range must start on the first day of a month and end on the last day of a
month: only such ranges can be protected together with the published months,
half-years and years (docs/statistics.md, "Suppression"); any other range is refused
with :class:`PeriodError` code ``months``.

Boundaries are local dates in ``HOTLINE_TIMEZONE``; :meth:`Period.utc_bounds` turns them
into the UTC instants the database stores. Pure: no Flask, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_HALF = re.compile(r"^(\d{4})-S([12])$")
_YEAR = re.compile(r"^(\d{4})$")
_CUSTOM = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
_MONTHS = re.compile(r"^(\d{4})-(\d{2})\.\.(\d{4})-(\d{2})$")

#: Years a period may fall in: the plan runs 2021-2030; the service started in 2025.
MIN_YEAR = 2020
MAX_YEAR = 2100
#: A custom range longer than this is refused (use a year instead).
MAX_CUSTOM_DAYS = 3 * 366


class PeriodError(ValueError):
    """A period that cannot be used; ``code`` says why (format, range, order, length,
    months: a custom range that is not made of whole months)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Period:
    """A span of whole local days: ``start`` inclusive, ``end`` exclusive."""

    kind: str  # month | half | year | custom
    code: str
    start: date
    end: date

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def utc_bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """The UTC instants of local midnight at ``start`` and at ``end``."""
        tz = ZoneInfo(timezone)
        return (
            datetime.combine(self.start, time(), tz).astimezone(UTC),
            datetime.combine(self.end, time(), tz).astimezone(UTC),
        )

    def months(self) -> list[Period]:
        """The calendar months this period covers (whole or part), in order."""
        out = []
        y, m = self.start.year, self.start.month
        while date(y, m, 1) < self.end:
            out.append(month(y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    @property
    def dhis2(self) -> str:
        """DHIS2's ISO period: ``202611`` monthly, ``2026S1`` six-monthly, ``2026`` yearly."""
        if self.kind == "month":
            return f"{self.start.year}{self.start.month:02d}"
        if self.kind == "half":
            return f"{self.start.year}S{1 if self.start.month == 1 else 2}"
        if self.kind == "year":
            return str(self.start.year)
        raise PeriodError("kind", "custom ranges have no DHIS2 period")


def month(year: int, m: int) -> Period:
    _check_year(year)
    if not 1 <= m <= 12:
        raise PeriodError("range", "the month must be 01 to 12")
    end = date(year + 1, 1, 1) if m == 12 else date(year, m + 1, 1)
    return Period("month", f"{year}-{m:02d}", date(year, m, 1), end)


def half(year: int, h: int) -> Period:
    _check_year(year)
    if h == 1:
        return Period("half", f"{year}-S1", date(year, 1, 1), date(year, 7, 1))
    return Period("half", f"{year}-S2", date(year, 7, 1), date(year + 1, 1, 1))


def year(y: int) -> Period:
    _check_year(y)
    return Period("year", str(y), date(y, 1, 1), date(y + 1, 1, 1))


def custom(start: date, last_day: date) -> Period:
    """Local dates ``start`` to ``last_day``, both included: whole months only.

    A range that is exactly a month, a half-year or a year is that period (so it is
    the same report, suppressed the same way).
    """
    _check_year(start.year)
    _check_year(last_day.year)
    if last_day < start:
        raise PeriodError("order", "the end date is before the start date")
    end = last_day + timedelta(days=1)
    if (end - start).days > MAX_CUSTOM_DAYS:
        raise PeriodError("length", "a custom range may cover at most three years")
    if start.day != 1 or end.day != 1:
        raise PeriodError(
            "months",
            "a custom range must start on the first day of a month and end on the last day "
            "of a month: only whole months can be protected together with the published "
            "months, half-years and years",
        )
    for candidate in (month(start.year, start.month), *_halves_and_year(start.year)):
        if (candidate.start, candidate.end) == (start, end):
            return candidate
    return Period("custom", f"{start.isoformat()}..{last_day.isoformat()}", start, end)


def months_range(first: Period, last: Period) -> Period:
    """The whole months from ``first`` to ``last`` (both months), as :func:`custom`."""
    return custom(first.start, last.last_day)


def _halves_and_year(y: int) -> tuple[Period, Period, Period]:
    return half(y, 1), half(y, 2), year(y)


def periods_of_year(y: int) -> list[Period]:
    """The 15 periods published for a year and suppressed together: its 12 months,
    its two half-years and the year."""
    return [*(month(y, m) for m in range(1, 13)), *_halves_and_year(y)]


def _check_year(y: int) -> None:
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise PeriodError("range", f"the year must be between {MIN_YEAR} and {MAX_YEAR}")


def parse_period(text: str | None, *, allow_custom: bool = False) -> Period:
    """``YYYY-MM``, ``YYYY-S1``, ``YYYY-S2``, ``YYYY`` (and, when ``allow_custom``, whole
    months ``YYYY-MM..YYYY-MM`` or ``YYYY-MM-DD..YYYY-MM-DD``); raise :class:`PeriodError`
    otherwise."""
    text = (text or "").strip().upper()
    if m := _MONTH.match(text):
        return month(int(m[1]), int(m[2]))
    if m := _HALF.match(text):
        return half(int(m[1]), int(m[2]))
    if m := _YEAR.match(text):
        return year(int(m[1]))
    if allow_custom and (m := _MONTHS.match(text)):
        return months_range(month(int(m[1]), int(m[2])), month(int(m[3]), int(m[4])))
    if allow_custom and (m := _CUSTOM.match(text)):
        try:
            start, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
        except ValueError as exc:
            raise PeriodError("format", "not a valid date") from exc
        return custom(start, last)
    if allow_custom:
        raise PeriodError(
            "format", "use YYYY-MM, YYYY-S1, YYYY-S2, YYYY or whole months YYYY-MM..YYYY-MM"
        )
    raise PeriodError("format", "use YYYY-MM, YYYY-S1, YYYY-S2 or YYYY")


def local_day(instant: datetime, timezone: str | ZoneInfo) -> date:
    """The local date (in the hotline's timezone) of an aware instant."""
    tz = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    return instant.astimezone(tz).date()


def previous_month(today: date) -> Period:
    first = today.replace(day=1)
    last = first - timedelta(days=1)
    return month(last.year, last.month)
