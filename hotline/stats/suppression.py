"""Small-cell suppression for published tables (DESIGN.md section 9). Pure: no Flask, no DB.

Input: ``values`` (cell key → non-negative count) and the additive ``equations`` that hold
between the cells (``total = part_1 + … + part_n``: a row total and its row, a column
total and its column, the grand total and the district totals, …). Output: the set of
suppressed cells, such that

1. no published cell has a value from 1 to ``THRESHOLD - 1`` (primary suppression;
   0 may be published), and
2. no suppressed cell is uniquely determined by the published cells through the
   equations (complementary suppression).

(2) is first approached greedily — while some equation has exactly one suppressed cell,
suppress its smallest non-zero published partner — and then *verified exactly*: cell
``i`` is recoverable iff the unit vector ``e_i`` lies in the row space of the equations
restricted to the suppressed columns. The row space is kept in reduced row-echelon form
over the rationals (:class:`fractions.Fraction`, so no rounding); ``e_i`` is in it iff
some basis row is exactly ``e_i``. Every recoverable cell gets another partner
suppressed, and the loop repeats until nothing is recoverable.

Linear non-recoverability is what is guaranteed. Bounds are not: a suppressed cell in a
row whose published total is 6 is known to lie in 0..6. That is the usual standard for
official statistics tables and is documented in docs/statistics.md.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

#: Counts from 1 to THRESHOLD - 1 are never published.
THRESHOLD = 5


@dataclass(frozen=True, slots=True)
class Equation:
    """``total == sum(parts)`` holds for the true values of the cells."""

    total: Hashable
    parts: tuple[Hashable, ...]

    def members(self) -> tuple[Hashable, ...]:
        return (self.total, *self.parts)

    def coefficients(self) -> dict[Hashable, int]:
        coef: dict[Hashable, int] = {self.total: 1}
        for p in self.parts:
            coef[p] = coef.get(p, 0) - 1
        return {k: c for k, c in coef.items() if c}


def is_sensitive(value: int, threshold: int = THRESHOLD) -> bool:
    return 0 < value < threshold


def suppress(
    values: Mapping[Hashable, int],
    equations: Sequence[Equation],
    *,
    threshold: int = THRESHOLD,
    priority: Callable[[Hashable], int] | None = None,
) -> set[Hashable]:
    """The cells to suppress: primary (1 .. threshold-1) plus complementary, verified.

    ``priority(cell)``: among candidate partners, lower is suppressed first (e.g. keep
    totals published by giving them a higher number); then the smaller value.
    """
    rank = priority or (lambda _k: 0)
    order = {k: i for i, k in enumerate(values)}
    for eq in equations:
        for k in eq.members():
            if k not in order:
                raise KeyError(f"equation names an unknown cell {k!r}")
    suppressed = {k for k, v in values.items() if is_sensitive(v, threshold)}
    if not suppressed:
        return suppressed
    by_cell: dict[Hashable, list[Equation]] = {}
    for eq in equations:
        for k in set(eq.members()):
            by_cell.setdefault(k, []).append(eq)

    def best_partner(candidates: Iterable[Hashable]) -> Hashable | None:
        open_ = [k for k in set(candidates) if k not in suppressed]
        if not open_:
            return None
        # Smallest non-zero first (least information lost); zeros only as a last resort.
        return min(open_, key=lambda k: (values[k] == 0, rank(k), values[k], order[k]))

    while True:
        _close_single_suppressions(equations, suppressed, best_partner)
        exposed = recoverable(values, equations, suppressed)
        if not exposed:
            return suppressed
        added = False
        for cell in sorted(exposed, key=order.__getitem__):
            partner = _nearest_partner(cell, values, by_cell, suppressed, best_partner)
            if partner is not None:
                suppressed.add(partner)
                added = True
        if not added:
            # Nothing left to suppress next to these cells: they are determined by
            # structure alone (their value is 0 whatever is published).
            return suppressed


def _nearest_partner(cell, values, by_cell, suppressed, best_partner):
    """The best published cell in the equations nearest to ``cell``: first those through
    it; when those are fully suppressed, those through their cells, and so on."""
    seen_cells = {cell}
    seen_eqs: set[int] = set()
    frontier = [cell]
    fallback = None
    while frontier:
        candidates = []
        following = []
        for c in frontier:
            for eq in by_cell.get(c, ()):
                if id(eq) in seen_eqs:
                    continue
                seen_eqs.add(id(eq))
                for m in eq.members():
                    if m not in suppressed:
                        candidates.append(m)
                    elif m not in seen_cells:
                        seen_cells.add(m)
                        following.append(m)
        # A published zero is a poor partner (it hides nothing): look further for a
        # non-zero one first, and fall back to the nearest zero.
        partner = best_partner(c for c in candidates if values[c] != 0)
        if partner is not None:
            return partner
        if fallback is None:
            fallback = best_partner(candidates)
        frontier = following
    return fallback


def _close_single_suppressions(equations, suppressed, best_partner) -> None:
    changed = True
    while changed:
        changed = False
        for eq in equations:
            members = eq.coefficients()
            hidden = [k for k in members if k in suppressed]
            if len(hidden) == 1:
                partner = best_partner(members)
                if partner is not None:
                    suppressed.add(partner)
                    changed = True


def recoverable(
    values: Mapping[Hashable, int],
    equations: Sequence[Equation],
    suppressed: Iterable[Hashable],
) -> set[Hashable]:
    """Suppressed cells whose value follows from the published cells and the equations.

    Exact: cell ``i`` is recoverable iff ``e_i`` is in the row space of the equations'
    coefficients on the suppressed cells (published cells move to the right-hand side).
    """
    hidden = set(suppressed)
    index = {k: i for i, k in enumerate(sorted(hidden, key=_sort_key))}
    basis: dict[int, dict[int, Fraction]] = {}
    for eq in equations:
        row = {index[k]: Fraction(c) for k, c in eq.coefficients().items() if k in hidden}
        if row:
            _insert(basis, row)
    keys = {i: k for k, i in index.items()}
    determined = {keys[p] for p, row in basis.items() if len(row) == 1}
    return {k for k in determined if k in values}


def _sort_key(k: Hashable) -> str:
    return repr(k)


def _insert(basis: dict[int, dict[int, Fraction]], row: dict[int, Fraction]) -> None:
    """Add ``row`` to a fully reduced row-echelon basis (pivot → row with pivot 1)."""
    for p in [c for c in row if c in basis]:
        factor = row.get(p)
        if not factor:
            continue
        for c, v in basis[p].items():
            nv = row.get(c, 0) - factor * v
            if nv:
                row[c] = nv
            else:
                row.pop(c, None)
    if not row:
        return
    pivot = min(row)
    scale = row[pivot]
    row = {c: v / scale for c, v in row.items()}
    for other in basis.values():
        factor = other.get(pivot)
        if factor:
            for c, v in row.items():
                nv = other.get(c, 0) - factor * v
                if nv:
                    other[c] = nv
                else:
                    other.pop(c, None)
    basis[pivot] = row


def published(values: Mapping[Hashable, int], suppressed: set[Hashable]) -> dict:
    """Cell → value, or None where suppressed."""
    return {k: (None if k in suppressed else v) for k, v in values.items()}
