"""Opening hours of service points and survivors' safe-contact windows.

Directory syntax (DESIGN §6), parsed by :func:`parse_hours`::

    24/7
    Mo-Fr 07:30-11:30,13:30-17:00; Sa 08:00-11:00

Rules are ``;``-separated; each is a day list (``Mo Tu We Th Fr Sa Su``, ranges ``Mo-Fr`` and
comma lists ``Mo,We``) followed by comma-separated ``HH:MM-HH:MM`` intervals. A point is open
from the first minute up to, but not including, the closing minute (``-17:00`` means closed at
17:00:00). ``24:00`` may end an interval; an interval cannot run past midnight (write
``Fr 22:00-24:00; Sa 00:00-06:00``), so ranges are never backwards. Overlaps are rejected.

Times are wall-clock times in ``HOTLINE_TIMEZONE``. Every method taking ``at`` needs an aware
datetime and reads its wall clock, after converting it to ``tz`` when ``tz`` is given; pass the
hotline's zone (or convert first) when ``at`` may be in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from routing.i18n import N_, Message, msg

DAYS: tuple[str, ...] = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_INDEX = {d.lower(): i for i, d in enumerate(DAYS)}
_MINUTES_PER_DAY = 24 * 60
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})")
_DAY_ITEM = r"[A-Za-z]{2}(?:\s*-\s*[A-Za-z]{2})?"
_DAY_SPEC_RE = re.compile(rf"{_DAY_ITEM}(?:\s*,\s*{_DAY_ITEM})*")

Interval = tuple[int, int]  # [start, end) in minutes after midnight


class HoursSyntaxError(ValueError):
    """Bad opening-hours or time-window text; ``message`` is translatable (msgid + params)."""

    def __init__(self, msgid: str, **params: object) -> None:
        self.message: Message = msg(msgid, **params)
        super().__init__(self.message.render())

    @property
    def msgid(self) -> str:
        return self.message.msgid

    @property
    def params(self) -> dict[str, object]:
        return dict(self.message.params)


def _local(at: datetime, tz: tzinfo | None) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
    return at.astimezone(tz) if tz is not None else at


def _at_minute(day: date, minute: int, tz: tzinfo | None) -> datetime:
    day = day + timedelta(days=minute // _MINUTES_PER_DAY)
    minute %= _MINUTES_PER_DAY
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)


def _fmt(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _parse_time(text: str, *, allow_24: bool) -> int:
    m = _TIME_RE.fullmatch(text.strip())
    if not m:
        raise HoursSyntaxError(N_("“%(text)s” is not a time; write HH:MM"), text=text.strip())
    hour, minute = int(m.group(1)), int(m.group(2))
    if minute > 59 or hour > 24 or (hour == 24 and (minute or not allow_24)):
        raise HoursSyntaxError(N_("“%(text)s” is not a valid time of day"), text=text.strip())
    return hour * 60 + minute


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Weekly opening hours: for each weekday (Monday first) sorted, disjoint intervals."""

    week: tuple[tuple[Interval, ...], ...]

    @property
    def is_always_open(self) -> bool:
        """True for ``24/7`` (or rules that cover every minute of the week)."""
        return all(day == ((0, _MINUTES_PER_DAY),) for day in self.week)

    def is_open(self, at: datetime, tz: tzinfo | None = None) -> bool:
        """Whether the point is open at ``at`` (aware; converted to ``tz`` when given)."""
        local = _local(at, tz)
        minute = local.hour * 60 + local.minute
        return any(s <= minute < e for s, e in self.week[local.weekday()])

    def next_open(self, at: datetime, tz: tzinfo | None = None) -> datetime | None:
        """``at`` itself when open, else the start of the next opening (within a week)."""
        local = _local(at, tz)
        if self.is_open(local):
            return local
        minute = local.hour * 60 + local.minute
        for offset in range(8):
            for start, _end in self.week[(local.weekday() + offset) % 7]:
                if offset or start > minute:
                    return _at_minute(local.date() + timedelta(days=offset), start, local.tzinfo)
        return None

    def closes_at(self, at: datetime, tz: tzinfo | None = None) -> datetime | None:
        """When the current opening ends (following openings across midnight); None when
        closed now or always open."""
        local = _local(at, tz)
        if self.is_always_open or not self.is_open(local):
            return None
        weekday, minute = local.weekday(), local.hour * 60 + local.minute
        end = next(e for s, e in self.week[weekday] if s <= minute < e)
        offset = 0
        while end == _MINUTES_PER_DAY and offset < 7:
            following = self.week[(weekday + offset + 1) % 7]
            if not following or following[0][0] != 0:
                break
            offset += 1
            end = following[0][1]
        return _at_minute(local.date() + timedelta(days=offset), end, local.tzinfo)

    def __str__(self) -> str:
        """Canonical text that :func:`parse_hours` reads back to an equal value."""
        if self.is_always_open:
            return "24/7"
        groups: dict[tuple[Interval, ...], list[int]] = {}
        for i, day in enumerate(self.week):
            if day:
                groups.setdefault(day, []).append(i)
        rules = []
        for intervals, days in groups.items():
            times = ",".join(f"{_fmt(s)}-{_fmt(e)}" for s, e in intervals)
            rules.append(f"{_days_text(days)} {times}")
        return "; ".join(rules)


def _days_text(days: list[int]) -> str:
    runs: list[list[int]] = []
    for d in days:
        if runs and runs[-1][-1] == d - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAYS[run[0]]}-{DAYS[run[-1]]}")
        else:
            parts.extend(DAYS[d] for d in run)
    return ",".join(parts)


def _parse_day(token: str) -> int:
    index = _DAY_INDEX.get(token.strip().lower())
    if index is None:
        raise HoursSyntaxError(
            N_("Unknown day “%(day)s”; use Mo, Tu, We, Th, Fr, Sa, Su"), day=token.strip()
        )
    return index


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for item in text.split(","):
        if "-" in item:
            first, last = (_parse_day(t) for t in item.split("-", 1))
            if last < first:
                raise HoursSyntaxError(
                    N_("Day range “%(range)s” runs backwards; write it as two ranges"),
                    range=item.strip(),
                )
            chosen = range(first, last + 1)
        else:
            chosen = range(_parse_day(item), _parse_day(item) + 1)
        for d in chosen:
            if d in days:
                raise HoursSyntaxError(N_("Day %(day)s is listed twice in one rule"), day=DAYS[d])
            days.append(d)
    return days


def _parse_interval(text: str) -> Interval:
    if text.count("-") != 1:
        raise HoursSyntaxError(
            N_("“%(text)s” is not a time range; write HH:MM-HH:MM"), text=text.strip()
        )
    first, last = text.split("-")
    start, end = _parse_time(first, allow_24=False), _parse_time(last, allow_24=True)
    if end <= start:
        raise HoursSyntaxError(
            N_("Time range “%(text)s” is empty or runs backwards"), text=text.strip()
        )
    return start, end


def parse_hours(text: str) -> OpeningHours:
    """Parse the directory ``hours`` column; raise :class:`HoursSyntaxError` when invalid."""
    stripped = " ".join(text.split())
    if not stripped:
        raise HoursSyntaxError(N_("Opening hours are empty"))
    if stripped == "24/7":
        return OpeningHours(week=tuple(((0, _MINUTES_PER_DAY),) for _ in DAYS))
    week: list[list[Interval]] = [[] for _ in DAYS]
    for rule in stripped.split(";"):
        rule = rule.strip()
        if not rule:
            raise HoursSyntaxError(N_("Empty rule between “;” in opening hours"))
        m = _DAY_SPEC_RE.match(rule)
        if not m or not rule[m.end() :].strip():
            raise HoursSyntaxError(
                N_("“%(rule)s” must be days then times, like “Mo-Fr 07:30-17:00”"), rule=rule
            )
        days = _parse_days(m.group(0))
        intervals = [_parse_interval(t) for t in rule[m.end() :].strip().split(",")]
        for d in days:
            week[d].extend(intervals)
    merged: list[tuple[Interval, ...]] = []
    for d, intervals in enumerate(week):
        intervals.sort()
        out: list[Interval] = []
        for start, end in intervals:
            if out and start < out[-1][1]:
                raise HoursSyntaxError(
                    N_("Times overlap on %(day)s: %(first)s and %(second)s"),
                    day=DAYS[d],
                    first=f"{_fmt(out[-1][0])}-{_fmt(out[-1][1])}",
                    second=f"{_fmt(start)}-{_fmt(end)}",
                )
            if out and start == out[-1][1]:
                out[-1] = (out[-1][0], end)
            else:
                out.append((start, end))
        merged.append(tuple(out))
    return OpeningHours(week=tuple(merged))


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A daily window such as a survivor's safe-contact hours; may wrap past midnight."""

    start: int  # minutes after midnight, 0..1439
    end: int  # minutes after midnight, 1..1440; end <= start means the window wraps

    @property
    def wraps(self) -> bool:
        return self.end <= self.start

    def contains(self, at: time | datetime, tz: tzinfo | None = None) -> bool:
        """Whether the wall-clock time (a ``time``, or an aware datetime) is in the window."""
        if isinstance(at, datetime):
            at = _local(at, tz).time()
        minute = at.hour * 60 + at.minute
        if self.wraps:
            return minute >= self.start or minute < self.end
        return self.start <= minute < self.end

    def next_start(self, at: datetime, tz: tzinfo | None = None) -> datetime:
        """The next moment the window opens, at or after ``at``."""
        local = _local(at, tz)
        today = _at_minute(local.date(), self.start, local.tzinfo)
        if today >= local:
            return today
        return _at_minute(local.date() + timedelta(days=1), self.start, local.tzinfo)

    def next_inside(self, at: datetime, tz: tzinfo | None = None) -> datetime:
        """``at`` when inside the window, else :meth:`next_start`: when a contact may happen."""
        local = _local(at, tz)
        return local if self.contains(local) else self.next_start(local)

    def __str__(self) -> str:
        return f"{_fmt(self.start)}-{_fmt(self.end)}"


def parse_window(text: str) -> TimeWindow:
    """Parse ``HH:MM-HH:MM`` (e.g. ``20:00-07:00`` wraps past midnight)."""
    if text.count("-") != 1:
        raise HoursSyntaxError(
            N_("“%(text)s” is not a time range; write HH:MM-HH:MM"), text=text.strip()
        )
    first, last = text.split("-")
    start, end = _parse_time(first, allow_24=False), _parse_time(last, allow_24=True)
    if start == end:
        raise HoursSyntaxError(N_("Time window “%(text)s” is empty"), text=text.strip())
    return TimeWindow(start=start, end=end)
