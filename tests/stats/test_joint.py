"""Joint suppression of a year's months, half-years and year (issue 19): no suppressed cell
of any period is recoverable from the published values of all 15 periods together, and
ranges of whole months publish only what those periods already give away."""

from __future__ import annotations

import random
from datetime import date
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.stats.joint import (
    combine,
    joint_system,
    range_published,
    solve_year,
    year_counts,
)
from hotline.stats.periods import PeriodError, custom, parse_period, periods_of_year
from hotline.stats.report import _priority, places, report_from_counts
from hotline.stats.suppression import THRESHOLD, Equation, recoverable, suppress
from tests.stats.test_suppression import _rank

Y = 2026
MONTHS = [p.code for p in periods_of_year(Y)[:12]]
S1, S2, YEAR = (p.code for p in periods_of_year(Y)[12:])
MAX_TABLES = frozenset({"wait_max"})


def _rref_determined(equations, hidden) -> set:
    """Independent exact check (a fully reduced row-echelon form over the rationals, the
    textbook way): cell i is determined iff some basis row is exactly e_i."""
    cols = sorted(hidden, key=repr)
    index = {k: i for i, k in enumerate(cols)}
    basis: dict[int, dict[int, Fraction]] = {}
    for eq in equations:
        row: dict[int, Fraction] = {}
        for k, c in eq.coefficients().items():
            if k in index:
                row[index[k]] = row.get(index[k], 0) + Fraction(c)
        row = {c: v for c, v in row.items() if v}
        for p in sorted(c for c in row if c in basis):
            f = row.get(p)
            if f:
                for c, v in basis[p].items():
                    row[c] = row.get(c, 0) - f * v
                    if not row[c]:
                        del row[c]
        if not row:
            continue
        pivot = min(row)
        row = {c: v / row[pivot] for c, v in row.items()}
        for other in basis.values():
            f = other.get(pivot)
            if f:
                for c, v in row.items():
                    other[c] = other.get(c, 0) - f * v
                    if not other[c]:
                        del other[c]
        basis[pivot] = row
    return {cols[p] for p, row in basis.items() if len(row) == 1}


# --- a small linked table over 12 months, built here (not by the module) --------------------


def _temporal(cells) -> list[Equation]:
    eqs = []
    for k in cells:
        eqs.append(Equation((YEAR, k), ((S1, k), (S2, k))))
        eqs.append(Equation((S1, k), tuple((m, k) for m in MONTHS[:6])))
        eqs.append(Equation((S2, k), tuple((m, k) for m in MONTHS[6:])))
    return eqs


@st.composite
def yearly_tables(draw):
    """An r × c table with row, column and grand totals for each of 12 months (many
    small counts, many zeros), its half-years and year by addition."""
    n_rows, n_cols = draw(st.integers(1, 3)), draw(st.integers(2, 3))
    small = st.one_of(st.just(0), st.integers(0, 4), st.integers(0, 12))
    values: dict = {}
    inner = [(r, c) for r in range(n_rows) for c in range(n_cols)]
    cells = [*(("cell", r, c) for r, c in inner), *(("row", r) for r in range(n_rows))]
    cells += [*(("col", c) for c in range(n_cols)), ("grand",)]
    for m in MONTHS:
        for r, c in inner:
            values[(m, ("cell", r, c))] = draw(small)
    for code, months in ((S1, MONTHS[:6]), (S2, MONTHS[6:]), (YEAR, MONTHS)):
        for r, c in inner:
            values[(code, ("cell", r, c))] = sum(values[(m, ("cell", r, c))] for m in months)
    equations = []
    for code in [*MONTHS, S1, S2, YEAR]:
        for r in range(n_rows):
            values[(code, ("row", r))] = sum(values[(code, ("cell", r, c))] for c in range(n_cols))
            equations.append(
                Equation((code, ("row", r)), tuple((code, ("cell", r, c)) for c in range(n_cols)))
            )
        for c in range(n_cols):
            values[(code, ("col", c))] = sum(values[(code, ("cell", r, c))] for r in range(n_rows))
            equations.append(
                Equation((code, ("col", c)), tuple((code, ("cell", r, c)) for r in range(n_rows)))
            )
        values[(code, ("grand",))] = sum(values[(code, ("row", r))] for r in range(n_rows))
        equations.append(
            Equation((code, ("grand",)), tuple((code, ("row", r)) for r in range(n_rows)))
        )
        equations.append(
            Equation((code, ("grand",)), tuple((code, ("col", c)) for c in range(n_cols)))
        )
    return values, equations + _temporal(cells)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yearly_tables())
def test_no_suppressed_cell_of_any_period_is_recoverable_from_all_periods(table):
    values, equations = table
    hidden = suppress(values, equations)
    published = {k: v for k, v in values.items() if k not in hidden}
    assert not [v for v in published.values() if 0 < v < THRESHOLD]
    # An independent exact check besides the module's own.
    assert recoverable(values, equations, hidden) == set()
    assert _rref_determined(equations, hidden) == set()


# --- the real published tables over 12 months ---------------------------------------------


def _random_year(rnd: random.Random, cases_per_month: int) -> dict[int, dict]:
    """Rollup counts of a year with few cases per month (so many cells from 1 to 4)."""
    districts, pairs = places()
    few = [d for d in districts[:4]]
    monthly: dict[int, dict] = {}
    for m in range(1, 13):
        counts: dict = {}

        def add(key, n=1, counts=counts):
            counts[key] = counts.get(key, 0) + n

        for _ in range(rnd.randint(0, cases_per_month)):
            d = rnd.choice(few)
            commune = rnd.choice([c for dd, c in pairs if dd == d])
            add(("place", d, commune))
            add(("sex", d, rnd.choice(["female", "female", "male"])))
            add(("outcome", d, rnd.choice(["service_received", "referred", "not_referred"])))
            add(("violence_type", d, rnd.choice(["physical_assault", "rape"])))
            add(("ind_support", d, rnd.choice(["met", "unmet"])))
            add(("calls", d, rnd.choice(["answered_fast", "answered_slow", "abandoned"])))
        monthly[m] = counts
    return monthly


def _solved(monthly, **kw):
    districts, pairs = places()
    counts = year_counts(Y, monthly, MAX_TABLES)
    sol = solve_year(Y, counts, districts, pairs, priority=_priority, **kw)
    values, equations = joint_system(Y, counts, districts, pairs)
    return sol, values, equations


@pytest.mark.parametrize("seed", range(12))
def test_random_years_through_the_real_tables_are_protected_jointly(seed):
    rnd = random.Random(seed)
    monthly = _random_year(rnd, cases_per_month=rnd.choice([3, 8, 20]))
    sol, values, equations = _solved(monthly)
    shown = {(code, k): v for code, cells in sol.published.items() for k, v in cells.items()}
    assert not [v for v in shown.values() if v is not None and 0 < v < THRESHOLD]
    assert all(v is None or v == values[c] for c, v in shown.items())
    hidden = {c for c, v in shown.items() if v is None}
    assert hidden == sol.hidden
    assert recoverable(values, equations, hidden) == set()
    if len(hidden) <= 400:
        assert _rref_determined(equations, hidden) == set()


def test_s1_minus_five_published_months_reveals_nothing_of_the_sixth():
    """June has one case in a district; January to May have ten each there. Suppressed one
    period at a time, June's cell is S1 minus five published months; jointly it is not."""
    district = places()[0][0]
    monthly = {m: {("place", district, "unknown"): 10} for m in range(1, 6)}
    monthly[6] = {("place", district, "unknown"): 1}
    cell = ("cases", (("district_code", district),))
    # Suppressed alone (the old way), the attack works:
    alone = {
        p.code: report_from_counts(c, p).published
        for p, c in zip(
            periods_of_year(Y), year_counts(Y, monthly, MAX_TABLES).values(), strict=True
        )
    }
    assert alone["2026-06"][cell] is None
    assert alone[S1][cell] - sum(alone[m][cell] for m in MONTHS[:5]) == 1
    # Jointly:
    sol, values, equations = _solved(monthly)
    june = {k for k, v in sol.published["2026-06"].items() if v is None}
    assert cell in june
    for k in june:
        parts = [sol.published[code][k] for code in [S1, *MONTHS[:5]]]
        assert None in parts, f"{k} = S1 - Jan..May"
    hidden = {(c, k) for c, cells in sol.published.items() for k, v in cells.items() if v is None}
    assert recoverable(values, equations, hidden) == set()
    assert not {("2026-06", k) for k in june} & _rref_determined(equations, hidden)


def test_known_cells_are_held_and_others_suppressed_instead():
    """March's total was pushed (known); a lone April case comes later. Without the push
    March's total would be the partner; held fixed, something else is suppressed, and
    nothing is recoverable even counting March's pushed total as known."""
    district = places()[0][0]
    monthly = {3: {("place", district, "unknown"): 6}, 4: {("place", district, "unknown"): 1}}
    total = ("cases", ())
    free, _v, _e = _solved(monthly)
    assert free.published["2026-03"][total] is None  # the cheapest partner
    known = {("2026-03", total), ("2026-03", ("cases", (("district_code", district),)))}
    sol, values, equations = _solved(monthly, known=known)
    assert sol.published["2026-03"][total] == 6
    assert sol.published["2026-04"][total] is None
    assert not known & sol.hidden
    assert recoverable(values, equations, sol.hidden) == set()
    assert _rref_determined(equations, sol.hidden) == set()


def test_a_cell_kept_suppressed_stays_suppressed_while_unchanged():
    district = places()[0][0]
    monthly = {3: {("place", district, "unknown"): 9}}
    cell = ("2026-03", ("cases", (("district_code", district),)))
    sol, values, equations = _solved(monthly, sticky=[(cell, 9)])
    assert cell in sol.hidden
    assert recoverable(values, equations, sol.hidden) == set()
    changed, _v, _e = _solved(monthly, sticky=[(cell, 8)])  # the value moved: free again
    assert cell not in changed.hidden


# --- ranges of whole months -----------------------------------------------------------------


def test_only_ranges_of_whole_months_are_accepted():
    assert custom(date(2026, 2, 1), date(2026, 4, 30)).code == "2026-02-01..2026-04-30"
    assert parse_period("2025-11..2026-02", allow_custom=True).months()[0].code == "2025-11"
    for start, last in (
        (date(2026, 2, 2), date(2026, 4, 30)),
        (date(2026, 2, 1), date(2026, 4, 29)),
    ):
        with pytest.raises(PeriodError) as refused:
            custom(start, last)
        assert refused.value.code == "months"
    with pytest.raises(PeriodError):
        parse_period("2026-02..2026-04")  # not where ranges are not offered


@pytest.mark.parametrize("seed", range(4))
def test_a_range_publishes_only_what_the_periods_already_give(seed):
    rnd = random.Random(100 + seed)
    monthly = _random_year(rnd, cases_per_month=10)
    sol, _values, _eqs = _solved(monthly)
    districts, pairs = places()
    first = rnd.randint(1, 12)
    last = rnd.randint(first, 12)
    period = custom(date(Y, first, 1), periods_of_year(Y)[last - 1].last_day)
    counts = year_counts(Y, monthly, MAX_TABLES)
    summed = combine((counts[m.code] for m in period.months()), MAX_TABLES)
    shown = range_published(period, {Y: sol}, summed, districts, pairs)
    months = {m.code for m in period.months()}
    target = [Fraction(int(code in months)) for code in MONTHS]
    for k, v in shown.items():
        true = sum(sol.values[(m, k)] for m in months)
        periods = [p for p in periods_of_year(Y) if sol.published[p.code].get(k) is not None]
        rows = [
            [Fraction(int(p.start <= m.start < p.end)) for m in periods_of_year(Y)[:12]]
            for p in periods
        ]
        derivable = _rank([*rows, target]) == _rank(rows) if rows else not any(target)
        if v is None:
            assert not derivable or 0 < true < THRESHOLD
        else:
            assert v == true and derivable and not 0 < v < THRESHOLD


def test_the_same_numbers_give_the_same_pattern_in_every_process():
    """Two processes (say two web workers, or the CLI and the worker pushing) must never
    show different patterns for the same numbers: differencing them would reveal cells,
    and a push would change its idempotency key."""
    import os
    import subprocess
    import sys

    script = (
        "import random, hashlib\n"
        "from tests.stats.test_joint import _random_year, _solved\n"
        "sol, _v, _e = _solved(_random_year(random.Random(5), 20))\n"
        "print(hashlib.sha256(repr(sorted(sol.hidden, key=repr)).encode()).hexdigest())\n"
    )
    out = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        out.add(done.stdout.strip())
    assert len(out) == 1


def test_a_solved_year_is_shared_through_the_database(report_case):
    """A process that has not solved the year reuses another's pattern: the same
    published values, no second solve."""
    from hotline.stats import report as report_module
    from hotline.stats.periods import parse_period
    from models import SuppressionPattern, db
    from tests.factories import MARCH

    for _ in range(7):
        report_case(at=MARCH)
    report_case(at=MARCH.replace(month=4))  # a lone April case: something to hide
    first = report_module.build_report(parse_period("2026-S1"))
    stored = db.session.execute(
        db.select(SuppressionPattern.year, SuppressionPattern.digest)
    ).all()
    assert [year for year, _digest in stored] == [2026]
    report_module._published.cache_clear()  # another process: nothing in memory

    def no_second_solve(*args, **kwargs):
        raise AssertionError("solved again")

    import pytest

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report_module, "solve_year", no_second_solve)
        again = report_module.build_report(parse_period("2026-S1"))
    assert again.published == first.published
    # New counts are a new pattern; the year's older one goes.
    report_case(at=MARCH)
    report_module._published.cache_clear()
    report_module.build_report(parse_period("2026-S1"))
    db.session.expire_all()
    assert [
        p.digest != stored[0].digest for p in db.session.scalars(db.select(SuppressionPattern))
    ] == [True]


def test_the_worker_solves_the_years_ahead_of_the_requests(report_case, app):
    from datetime import UTC, datetime

    from hotline.stats.report import warm_patterns
    from models import SuppressionPattern, db

    report_case(at=datetime(2026, 3, 10, 3, tzinfo=UTC))
    assert warm_patterns(now=datetime(2026, 5, 1, tzinfo=UTC)) == [2025, 2026]
    years = sorted(db.session.scalars(db.select(SuppressionPattern.year)))
    assert years == [2025, 2026]
