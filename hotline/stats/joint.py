"""Joint suppression of the periods of one calendar year (DESIGN.md section 9). Pure.

The 15 periods published for a year — 12 months, two half-years, the year — are
suppressed as **one** problem: every cell of every period's province system
(:func:`hotline.stats.tables.build_system`) is a cell ``(period code, key)``; the
equations are each period's own (totals, margins, indicator parts, calls) plus, for every
key, the equations linking the periods::

    (year, k) = (S1, k) + (S2, k)
    (S1, k)   = (Jan, k) + … + (Jun, k)
    (S2, k)   = (Jul, k) + … + (Dec, k)

so no suppressed cell of any period can be recovered from the published values of all
15 periods together (S1 minus five published months, the year minus S1, …).

``known`` cells — numbers pushed earlier (:class:`models.stats.PublishedValue`) — are
what the receiving system (and so anyone reading it) already has: they count as
published in the verification and are never hidden to protect something else, so a
later change that would expose a suppressed cell through them suppresses other cells
instead. A known cell whose true value changed since is republished at its new value
(a re-push replaces) unless that value is now 1 to 4.

Custom ranges of whole months (:func:`range_published`) publish a cell only when its
value follows from the published values of the 15 periods of each year it covers — so
a range adds nothing anyone could not already compute.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from hotline.stats.periods import Period, periods_of_year
from hotline.stats.suppression import THRESHOLD, Equation, is_sensitive, suppress
from hotline.stats.tables import Key, build_system

Counts = dict[tuple[str, str, str], int]
Cell = tuple[str, Key]  # (period code, key)

#: Temporal rank of a period kind: months are suppressed before half-years, half-years
#: before the year (the 6-monthly and annual reports are the ones the plan asks for).
TEMPORAL_RANK = {"month": 0, "half": 1, "year": 2}


def combine(parts: Iterable[Mapping], max_tables: frozenset[str]) -> Counts:
    """Rollup counts of several periods as one (SUM, or MAX for ``max_tables``)."""
    out: Counts = {}
    for counts in parts:
        for k, n in counts.items():
            if k[0] in max_tables:
                out[k] = max(out.get(k, 0), n)
            else:
                out[k] = out.get(k, 0) + n
    return out


def year_counts(
    y: int, monthly: Mapping[int, Mapping], max_tables: frozenset[str]
) -> dict[str, Counts]:
    """Period code → counts for the 15 periods of year ``y`` from its months' counts
    (``monthly``: month number → counts). Every period gets every key seen in any month
    (0 where absent), so the 15 systems have exactly the same cells."""
    keys = set()
    for counts in monthly.values():
        keys.update(counts)
    zero = dict.fromkeys(keys, 0)
    periods = periods_of_year(y)
    out: dict[str, Counts] = {}
    for p in periods[:12]:
        out[p.code] = {**zero, **monthly.get(p.start.month, {})}
    for p in periods[12:]:
        out[p.code] = combine(
            (out[m.code] for m in periods[:12] if p.start <= m.start < p.end), max_tables
        )
    return out


@dataclass
class YearSolution:
    """The published values of the 15 periods of a year, and their counts."""

    year: int
    counts: dict[str, Counts]
    published: dict[str, dict[Key, int | None]]
    #: Cells hidden by the solver (not counting known cells shown suppressed).
    hidden: set[Cell]
    known: frozenset[Cell]
    #: The true value of every cell (never shown: for recording pushes and for tests).
    values: dict[Cell, int]


def joint_system(
    y: int,
    counts: Mapping[str, Counts],
    districts: Iterable[str],
    pairs: Iterable[tuple[str, str]],
) -> tuple[dict[Cell, int], list[Equation]]:
    """All cells ``(period code, key)`` of the 15 periods and every equation, within
    each period and between the periods.

    Every period has the same cells and equations (:func:`year_counts` pads the keys), so
    the structure is built once; a month without data is all zeros, and a half-year's or
    the year's values are the sums of its months' (every cell is a sum of counts)."""
    districts, pairs = list(districts), list(pairs)
    periods = periods_of_year(y)
    months = [p.code for p in periods[:12]]
    s1, s2, whole = (p.code for p in periods[12:])
    template = None
    month_values: dict[str, dict[Key, int]] = {}
    for code in months:
        if template is not None and not any(counts[code].values()):
            continue
        system = build_system(counts[code], districts, pairs)
        if template is None:
            template = system
        elif system.values.keys() != template.values.keys():
            raise ValueError("the periods of a year must have the same cells")
        month_values[code] = system.values
    assert template is not None
    keys = list(template.values)
    zero = dict.fromkeys(keys, 0)
    per_period = {code: month_values.get(code, zero) for code in months}
    for code, parts in ((s1, months[:6]), (s2, months[6:])):
        per_period[code] = {k: sum(per_period[m][k] for m in parts) for k in keys}
    per_period[whole] = {k: per_period[s1][k] + per_period[s2][k] for k in keys}
    values: dict[Cell, int] = {}
    equations: list[Equation] = []
    for p in periods:
        code = p.code
        for k, v in per_period[code].items():
            values[(code, k)] = v
        for eq in template.equations:
            equations.append(Equation((code, eq.total), tuple((code, q) for q in eq.parts)))
    for k in keys:
        equations.append(Equation((whole, k), ((s1, k), (s2, k))))
        equations.append(Equation((s1, k), tuple((m, k) for m in months[:6])))
        equations.append(Equation((s2, k), tuple((m, k) for m in months[6:])))
    return values, equations


def solve_year(
    y: int,
    counts: Mapping[str, Counts],
    districts: Iterable[str],
    pairs: Iterable[tuple[str, str]],
    *,
    priority: Callable[[Key], int],
    known: Iterable[Cell] = (),
    sticky: Iterable[tuple[Cell, int]] = (),
    threshold: int = THRESHOLD,
) -> YearSolution:
    """Suppress the 15 periods of year ``y`` together (``counts`` from
    :func:`year_counts`). ``known``: cells pushed as numbers; ``sticky``: (cell, true
    value when pushed suppressed) — kept suppressed while the value is unchanged."""
    values, equations = joint_system(y, counts, districts, pairs)
    kinds = {p.code: TEMPORAL_RANK[p.kind] for p in periods_of_year(y)}
    span = 1 + max((priority(k) for _c, k in values), default=0)

    def rank(cell: Cell) -> int:
        code, k = cell
        return kinds[code] * span + priority(k)

    fixed = frozenset(c for c in known if c in values)
    keep = [c for c, v in sticky if values.get(c) == v]
    hidden = suppress(
        values, equations, threshold=threshold, priority=rank, known=fixed, keep=keep
    )
    return _solution(y, counts, values, hidden, fixed, threshold)


def solution_from_pattern(
    y: int,
    counts: Mapping[str, Counts],
    districts: Iterable[str],
    pairs: Iterable[tuple[str, str]],
    hidden: Iterable[Cell],
    *,
    known: Iterable[Cell] = (),
    threshold: int = THRESHOLD,
) -> YearSolution:
    """The year's solution from a pattern solved before for the same counts and pushes
    (see :func:`content_hash`): the same published values, without solving again."""
    values, _equations = joint_system(y, counts, districts, pairs)
    fixed = frozenset(c for c in known if c in values)
    return _solution(y, counts, values, set(hidden), fixed, threshold)


def _solution(y, counts, values, hidden, fixed, threshold) -> YearSolution:
    published: dict[str, dict[Key, int | None]] = {p.code: {} for p in periods_of_year(y)}
    for (code, k), v in values.items():
        shown = None if (code, k) in hidden or is_sensitive(v, threshold) else v
        published[code][k] = shown
    return YearSolution(y, dict(counts), published, hidden, fixed, values)


def content_hash(
    monthly: Mapping[int, Mapping], known: Iterable[Cell], sticky: Iterable = ()
) -> str:
    """SHA-256 of a year's monthly counts and its pushed cells: the cache key of a solved
    pattern (the same rollups and the same pushes always give the same pattern)."""
    h = hashlib.sha256()
    for m in sorted(monthly):
        h.update(f"#{m}".encode())
        for k, n in sorted(monthly[m].items()):
            h.update(f"{k[0]}\x1f{k[1]}\x1f{k[2]}\x1f{n}\x1e".encode())
    for code, k in sorted(known, key=repr):
        h.update(f"!{code}\x1f{json.dumps(k)}\x1e".encode())
    for (code, k), v in sticky:
        h.update(f"?{code}\x1f{json.dumps(k)}\x1f{v}\x1e".encode())
    return h.hexdigest()


# --- custom ranges of whole months ------------------------------------------------------


def range_published(
    period: Period,
    solutions: Mapping[int, YearSolution],
    counts: Counts,
    districts: Iterable[str],
    pairs: Iterable[tuple[str, str]],
    *,
    threshold: int = THRESHOLD,
) -> dict[Key, int | None]:
    """The published values of a custom range of whole months: a cell's true sum over
    the range where it follows, year by year, from the cell's published values in the
    15 periods (so it reveals nothing new) and is not 1 to 4; else None.

    ``counts``: the range's summed counts (its cells' true values come from the range's
    own system, so the keys of every year are covered; a key a year does not have is 0
    there, and known to be).
    """
    system = build_system(counts, list(districts), list(pairs))
    out: dict[Key, int | None] = {}
    parts = []  # (solution, first month index, last month index + 1)
    for y in range(period.start.year, period.last_day.year + 1):
        first = period.start.month if y == period.start.year else 1
        last = period.last_day.month if y == period.last_day.year else 12
        parts.append((solutions[y], first - 1, last))
    codes = {y: [p.code for p in periods_of_year(y)] for y in solutions}
    for k, v in system.values.items():
        ok = True
        for sol, lo, hi in parts:
            pub = tuple(
                code not in sol.published or sol.published[code].get(k, 0) is not None
                for code in codes[sol.year]
            )
            if not _derivable(pub, lo, hi):
                ok = False
                break
        out[k] = v if ok and not is_sensitive(v, threshold) else None
    return out


def _vectors() -> list[tuple[int, ...]]:
    """The 15 periods of a year as indicator vectors over its 12 months."""
    out = [tuple(int(i == m) for i in range(12)) for m in range(12)]
    out.append(tuple(int(i < 6) for i in range(12)))
    out.append(tuple(int(i >= 6) for i in range(12)))
    out.append((1,) * 12)
    return out


_VECTORS = _vectors()


@lru_cache(maxsize=4096)
def _derivable(published: tuple[bool, ...], lo: int, hi: int) -> bool:
    """Is the sum over months ``lo`` .. ``hi - 1`` a linear combination of the published
    periods' sums (``published``: one flag per period, in :func:`periods_of_year` order)?"""
    target = tuple(int(lo <= i < hi) for i in range(12))
    rows = [list(map(Fraction, v)) for v, ok in zip(_VECTORS, published, strict=True) if ok]
    return _rank(rows) == _rank([*rows, list(map(Fraction, target))])


def _rank(rows: list[list[Fraction]]) -> int:
    m = [r[:] for r in rows]
    rank = 0
    for c in range(12):
        pivot = next((i for i in range(rank, len(m)) if m[i][c]), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        for i in range(len(m)):
            if i != rank and m[i][c]:
                f = m[i][c] / m[rank][c]
                m[i] = [a - f * b for a, b in zip(m[i], m[rank], strict=True)]
        rank += 1
    return rank
