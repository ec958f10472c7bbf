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
suppress its smallest non-zero published partner — and then *verified*: cell ``i`` is
recoverable iff the unit vector ``e_i`` lies in the row space of the equations restricted
to the suppressed columns, i.e. iff ``x_i = 0`` for every null vector ``x`` of that
matrix. The matrix is reduced to echelon form over the integers (exact) and null vectors
are built exactly: a cell non-zero in one is proven not recoverable (see
:func:`recoverable`). Every recoverable cell gets another partner suppressed, and the
loop repeats until nothing is recoverable. Cells the attacker knows already (numbers
pushed earlier, ``known``) count as published and are never chosen as partners; the
joint problem of a year's 15 periods (:mod:`hotline.stats.joint`) is solved by the same
function.

Linear non-recoverability is what is guaranteed. Bounds are not: a suppressed cell in a
row whose published total is 6 is known to lie in 0..6. That is the usual standard for
official statistics tables and is documented in docs/statistics.md.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

#: Counts from 1 to THRESHOLD - 1 are never published.
THRESHOLD = 5


@dataclass(frozen=True, slots=True)
class Equation:
    """``total == sum(parts)`` holds for the true values of the cells."""

    total: Hashable
    parts: tuple[Hashable, ...]
    _coef: dict | None = field(default=None, init=False, repr=False, compare=False)

    def members(self) -> tuple[Hashable, ...]:
        return (self.total, *self.parts)

    def coefficients(self) -> dict[Hashable, int]:
        """Cell → coefficient (computed once; do not modify the result)."""
        if self._coef is None:
            coef: dict[Hashable, int] = {self.total: 1}
            for p in self.parts:
                coef[p] = coef.get(p, 0) - 1
            object.__setattr__(self, "_coef", {k: c for k, c in coef.items() if c})
        return self._coef


def is_sensitive(value: int, threshold: int = THRESHOLD) -> bool:
    return 0 < value < threshold


def suppress(
    values: Mapping[Hashable, int],
    equations: Sequence[Equation],
    *,
    threshold: int = THRESHOLD,
    priority: Callable[[Hashable], int] | None = None,
    known: Iterable[Hashable] = (),
    keep: Iterable[Hashable] = (),
) -> set[Hashable]:
    """The cells to suppress: primary (1 .. threshold-1) plus complementary, verified.

    ``priority(cell)``: among candidate partners, lower is suppressed first (e.g. keep
    totals published by giving them a higher number); then the smaller value.

    ``known``: cells the attacker knows whatever we publish now (numbers pushed earlier).
    They are never returned (hiding them would hide nothing), never chosen as partners,
    and count as published in the verification; a known cell whose value is now 1 .. 4
    must still be *shown* suppressed by the caller, but cannot be protected.

    ``keep``: cells suppressed from the start (pushed suppressed earlier and unchanged:
    the same numbers then give the same pattern). Known cells are not kept.
    """
    rank = priority or (lambda _k: 0)
    order = {k: i for i, k in enumerate(values)}
    for eq in equations:
        for k in eq.members():
            if k not in order:
                raise KeyError(f"equation names an unknown cell {k!r}")
    fixed = {k for k in known if k in order}
    suppressed = {k for k, v in values.items() if is_sensitive(v, threshold) and k not in fixed}
    suppressed |= {k for k in keep if k in order and k not in fixed}
    if not suppressed:
        return suppressed
    members = [tuple(eq.coefficients()) for eq in equations]
    by_cell: dict[Hashable, list[int]] = {}
    for i, ms in enumerate(members):
        for k in ms:
            by_cell.setdefault(k, []).append(i)

    def best_partner(candidates: Iterable[Hashable]) -> Hashable | None:
        open_ = [k for k in set(candidates) if k not in suppressed and k not in fixed]
        if not open_:
            return None
        # Smallest non-zero first (least information lost); zeros only as a last resort.
        return min(open_, key=lambda k: (values[k] == 0, rank(k), values[k], order[k]))

    def add(cell: Hashable, queue: list[int]) -> None:
        suppressed.add(cell)
        queue.extend(by_cell.get(cell, ()))

    # In the cells' order (never a set's): the same input gives the same pattern in
    # every process, so pushes keep their idempotency keys and no two views differ.
    queue = [i for k in sorted(suppressed, key=order.__getitem__) for i in by_cell.get(k, ())]
    rows = [eq.coefficients() for eq in equations]
    tries: dict[Hashable, int] = {}
    while True:
        _close_single_suppressions(members, suppressed, best_partner, add, queue)
        touched = sorted({i for k in suppressed for i in by_cell.get(k, ())})
        exposed = _recoverable(values, [rows[i] for i in touched], suppressed)
        if not exposed:
            return suppressed
        added = False
        for cell in sorted(exposed, key=order.__getitem__):
            tries[cell] = tries.get(cell, 0) + 1
            partners = [_nearest_partner(cell, values, members, by_cell, suppressed, best_partner)]
            if tries[cell] > 1:
                # Still exposed after a partner: one more in every equation through it.
                partners += [best_partner(members[i]) for i in by_cell.get(cell, ())]
            for partner in partners:
                if partner is not None and partner not in suppressed:
                    add(partner, queue)
                    added = True
        if not added:
            # Nothing left to suppress next to these cells: they are determined by
            # structure alone, or by cells the attacker already knows (``known``).
            # Hiding such a cell hides nothing, so a partner among them is published
            # again (a determined cell adds nothing to what is known, so no other cell
            # becomes recoverable); a cell from 1 to 4 among them stays suppressed but
            # cannot be protected (only possible through ``known`` cells whose value
            # changed since they were pushed).
            return suppressed - {k for k in exposed if not is_sensitive(values[k], threshold)}


def _nearest_partner(cell, values, members, by_cell, suppressed, best_partner):
    """The best published cell in the equations nearest to ``cell``: first those through
    it; when those are fully suppressed, those through their cells, and so on."""
    seen_cells = {cell}
    seen_eqs: set[int] = set()
    frontier = [cell]
    fallback = None
    # Once a zero is at hand, look only a little further for a non-zero partner (the
    # whole system can be one connected block of suppressed cells).
    levels_after_fallback = 1
    while frontier:
        candidates = []
        following = []
        for c in frontier:
            for i in by_cell.get(c, ()):
                if i in seen_eqs:
                    continue
                seen_eqs.add(i)
                for m in members[i]:
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
        elif levels_after_fallback == 0:
            break
        else:
            levels_after_fallback -= 1
        frontier = following
    return fallback


def _close_single_suppressions(members, suppressed, best_partner, add, queue) -> None:
    """While an equation has exactly one suppressed cell, suppress a partner in it
    (a work list of the equations through newly suppressed cells)."""
    while queue:
        i = queue.pop()
        ms = members[i]
        hidden = 0
        for k in ms:
            if k in suppressed:
                hidden += 1
                if hidden > 1:
                    break
        if hidden == 1:
            partner = best_partner(ms)
            if partner is not None:
                add(partner, queue)


def recoverable(
    values: Mapping[Hashable, int],
    equations: Sequence[Equation],
    suppressed: Iterable[Hashable],
) -> set[Hashable]:
    """Suppressed cells whose value follows from the published cells and the equations.

    Cell ``i`` is recoverable iff ``e_i`` is in the row space of the equations'
    coefficients on the suppressed cells (published cells move to the right-hand side),
    that is iff ``x_i = 0`` for every ``x`` in that matrix's null space. The matrix is
    brought to echelon form over the integers (fraction-free, exact); then a few null
    vectors are built exactly (random free values, back-substitution over the
    rationals). A cell with ``x_i != 0`` in one of them is **proven** not recoverable
    (the null vector is the witness: the published values cannot tell ``t`` from
    ``t + x``). A cell that is 0 in all of them is reported recoverable; that is exact
    unless the random values hit a root — then a cell is over-reported, and suppression
    only errs on the safe side (one more partner). The random values are seeded, so the
    same input always gives the same answer.
    """
    return _recoverable(values, [eq.coefficients() for eq in equations], suppressed)


def _recoverable(values, rows: Sequence[Mapping[Hashable, int]], suppressed) -> set[Hashable]:
    hidden = set(suppressed)
    keys = sorted(hidden, key=_sort_key)
    index = {k: i for i, k in enumerate(keys)}
    basis: dict[int, dict[int, int]] = {}
    for coefficients in rows:
        row = {index[k]: c for k, c in coefficients.items() if k in hidden}
        if row:
            _insert(basis, row)
    n = len(keys)
    free = [i for i in range(n) if i not in basis]
    rnd = random.Random(_SEED)  # noqa: S311 - a witness, not a secret
    undetermined: set[int] = set(free)
    for _round in range(_WITNESSES):
        if len(undetermined) == n:
            break
        x = _null_vector(basis, free, n, rnd)
        undetermined.update(i for i in basis if x[i])
        if not any(i not in undetermined for i in basis):
            break
    return {keys[i] for i in range(n) if i not in undetermined and keys[i] in values}


#: Null vectors tried per check, and the seed of their random free values.
_WITNESSES = 2
_SEED = 19


def _sort_key(k: Hashable) -> str:
    return repr(k)


def _insert(basis: dict[int, dict[int, int]], row: dict[int, int]) -> None:
    """Add an integer ``row`` to an echelon basis (pivot = the row's lowest column →
    primitive integer row with a positive pivot), eliminating fraction-free."""
    while row:
        pivot = min(row)
        other = basis.get(pivot)
        if other is None:
            g = 0
            for v in row.values():
                g = math.gcd(g, v)
            if row[pivot] < 0:
                g = -g
            basis[pivot] = {c: v // g for c, v in row.items()}
            return
        a, b = other[pivot], row[pivot]
        new = {c: a * v for c, v in row.items()}
        for c, v in other.items():
            nv = new.get(c, 0) - b * v
            if nv:
                new[c] = nv
            else:
                new.pop(c, None)
        g = 0
        for v in new.values():
            g = math.gcd(g, v)
        row = {c: v // g for c, v in new.items()} if g > 1 else new


def _null_vector(basis, free, n, rnd) -> list:
    """An exact null vector of the echelon ``basis``: random non-zero free values, pivots
    solved from the last to the first (each row's other columns come after its pivot)."""
    x: list = [0] * n
    for i in free:
        x[i] = rnd.randint(1, 1 << 62)
    for pivot in sorted(basis, reverse=True):
        row = basis[pivot]
        total = 0
        for c, v in row.items():
            if c != pivot:
                total += v * x[c]
        a = row[pivot]
        if isinstance(total, int) and total % a == 0:
            x[pivot] = -total // a
        else:
            x[pivot] = Fraction(-total, 1) / a
    return x


def published(values: Mapping[Hashable, int], suppressed: set[Hashable]) -> dict:
    """Cell → value, or None where suppressed."""
    return {k: (None if k in suppressed else v) for k, v in values.items()}
