"""Suppression: nothing from 1 to 4 is published, and no suppressed cell can be recovered
from the published cells and totals (checked independently, exactly, and by brute force)."""

from __future__ import annotations

import itertools
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.stats.report import _priority, places
from hotline.stats.suppression import THRESHOLD, Equation, recoverable, suppress
from hotline.stats.tables import build_system

SMALL = st.one_of(st.integers(0, 6), st.integers(0, 40))


def _rank(rows: list[list[Fraction]]) -> int:
    """Dense Gaussian elimination over the rationals (independent of the module's RREF)."""
    m = [list(r) for r in rows]
    rank, cols = 0, len(m[0]) if m else 0
    for c in range(cols):
        pivot = next((i for i in range(rank, len(m)) if m[i][c] != 0), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        for i in range(len(m)):
            if i != rank and m[i][c] != 0:
                f = m[i][c] / m[rank][c]
                m[i] = [a - f * b for a, b in zip(m[i], m[rank], strict=True)]
        rank += 1
    return rank


def determined_by_rank(equations, hidden) -> set:
    """Cell i is determined iff appending e_i to the suppressed-columns matrix keeps its rank."""
    cols = sorted(hidden, key=repr)
    index = {k: i for i, k in enumerate(cols)}
    rows = []
    for eq in equations:
        row = [Fraction(0)] * len(cols)
        for k, c in eq.coefficients().items():
            if k in index:
                row[index[k]] += c
        if any(row):
            rows.append(row)
    base = _rank(rows) if rows else 0
    out = set()
    for k, i in index.items():
        unit = [Fraction(0)] * len(cols)
        unit[i] = Fraction(1)
        if _rank([*rows, unit]) == base:
            out.add(k)
    return out


@st.composite
def linked_tables(draw):
    """1-3 two-way tables sharing their row totals (like district × sex, district × age),
    with row, column and grand totals: the structure of the real published tables."""
    n_rows = draw(st.integers(1, 4))
    values: dict = {}
    equations = []
    inner = []
    for t in range(draw(st.integers(1, 3))):
        n_cols = draw(st.integers(1, 4))
        for r in range(n_rows):
            for c in range(n_cols):
                cell = ("cell", t, r, c)
                values[cell] = draw(SMALL) if t == 0 else None
                inner.append(cell)
        if t > 0:
            # Later tables split the same row totals differently.
            for r in range(n_rows):
                total = sum(values[("cell", 0, r, c)] for c in range(_cols(values, 0)))
                parts = _split(draw, total, n_cols)
                for c in range(n_cols):
                    values[("cell", t, r, c)] = parts[c]
    n_tables = 1 + max(k[1] for k in values)
    for r in range(n_rows):
        values[("row", r)] = sum(values[("cell", 0, r, c)] for c in range(_cols(values, 0)))
    values[("grand",)] = sum(values[("row", r)] for r in range(n_rows))
    for t in range(n_tables):
        n_cols = _cols(values, t)
        for c in range(n_cols):
            values[("col", t, c)] = sum(values[("cell", t, r, c)] for r in range(n_rows))
            equations.append(
                Equation(("col", t, c), tuple(("cell", t, r, c) for r in range(n_rows)))
            )
        for r in range(n_rows):
            equations.append(Equation(("row", r), tuple(("cell", t, r, c) for c in range(n_cols))))
        equations.append(Equation(("grand",), tuple(("col", t, c) for c in range(n_cols))))
    equations.append(Equation(("grand",), tuple(("row", r) for r in range(n_rows))))
    return values, equations


def _cols(values, t):
    return 1 + max(k[3] for k in values if k[0] == "cell" and k[1] == t)


def _split(draw, total, n):
    cuts = sorted(draw(st.lists(st.integers(0, total), min_size=n - 1, max_size=n - 1)))
    bounds = [0, *cuts, total]
    return [bounds[i + 1] - bounds[i] for i in range(n)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_tables())
def test_no_small_value_is_published_and_no_suppressed_cell_is_recoverable(table):
    values, equations = table
    hidden = suppress(values, equations)
    published = {k: v for k, v in values.items() if k not in hidden}
    assert not [v for v in published.values() if 0 < v < THRESHOLD]
    assert determined_by_rank(equations, hidden) == set()
    assert recoverable(values, equations, hidden) == set()
    for k, v in published.items():  # published values are the true counts
        assert values[k] == v


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(linked_tables().filter(lambda t: len(t[0]) <= 12 and t[0][("grand",)] <= 14))
def test_brute_force_every_suppressed_cell_has_another_possible_value(table):
    """Enumerate every non-negative integer table agreeing with what is published: each
    suppressed cell with a value from 1 to 4 must take at least two values."""
    values, equations = table
    hidden = sorted(suppress(values, equations), key=repr)
    top = values[("grand",)]
    if not hidden or (top + 1) ** len(hidden) > 200_000:
        return
    published = {k: v for k, v in values.items() if k not in hidden}
    seen: dict = {k: set() for k in hidden}
    for guess in itertools.product(range(top + 1), repeat=len(hidden)):
        trial = {**published, **dict(zip(hidden, guess, strict=True))}
        if all(trial[e.total] == sum(trial[p] for p in e.parts) for e in equations):
            for k, g in zip(hidden, guess, strict=True):
                seen[k].add(g)
    for k in hidden:
        if 0 < values[k] < THRESHOLD:
            assert len(seen[k]) >= 2, k


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.tuples(
            st.sampled_from(["place", "sex", "outcome", "violence_type", "calls", "sms"]),
            st.sampled_from(["193", "195", "205", "unknown"]),
            st.sampled_from(["female", "male", "service_received", "rape", "abandoned", ""]),
        ),
        st.integers(1, 12),
        max_size=25,
    )
)
def test_the_real_published_system_is_protected(raw):
    """Random rollup counts through the real tables: same properties."""
    districts, pairs = places()
    counts = {}
    for (tbl, d, k2), n in raw.items():
        if tbl == "place":
            k2 = next((c for dd, c in pairs if dd == d), "unknown")
        counts[(tbl, d, k2)] = counts.get((tbl, d, k2), 0) + n
    system = build_system(counts, districts, pairs)
    hidden = suppress(system.values, system.equations, priority=_priority)
    assert not [k for k, v in system.values.items() if k not in hidden and 0 < v < THRESHOLD]
    assert recoverable(system.values, system.equations, hidden) == set()


def test_a_lone_small_cell_gets_a_partner_in_its_row_and_column():
    values = {"a": 3, "b": 10, "c": 7, "d": 12, "r1": 13, "r2": 19, "c1": 10, "c2": 22, "g": 32}
    equations = [
        Equation("r1", ("a", "b")),
        Equation("r2", ("c", "d")),
        Equation("c1", ("a", "c")),
        Equation("c2", ("b", "d")),
        Equation("g", ("r1", "r2")),
        Equation("g", ("c1", "c2")),
    ]
    hidden = suppress(values, equations)
    assert hidden == {"a", "b", "c", "d"}
    assert recoverable(values, equations, {"a"}) == {"a"}


def test_zero_is_published():
    values = {"a": 0, "b": 9, "t": 9}
    assert suppress(values, [Equation("t", ("a", "b"))]) == set()
