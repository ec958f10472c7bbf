"""The published tables as cells and the additive equations between them. Pure.

Cells are keyed ``(measure, dims)`` with ``dims`` a sorted tuple of (dimension, code)
pairs, e.g. ``("cases", (("district_code", "193"), ("sex", "female")))``. One system
covers the whole province for a period; a district's view is a subset of its cells, so
no combination of views published for the same period reveals more than the province
system (which is what suppression is verified on).

Equations (all hold exactly for the true counts):

* cases: grand total = Σ district totals = Σ commune totals; district total = Σ its
  (district, commune) cells; commune total = Σ its (district, commune) cells (a 2025
  commune may span two former districts);
* each single-valued dimension D (sex, age band, channel, risk, outcome, perpetrator
  relationship): district total = Σ_d cell(district, d); D total d = Σ_district
  cell(district, d); grand total = Σ_d D total d;
* multi-valued dimensions (violence type, context — a case can have several): only
  type total t = Σ_district cell(district, t). Their cells do **not** add up to case
  totals;
* each indicator: denominator = met + unmet, per district and for the province; each of
  met, unmet, denominator = Σ over districts;
* calls: offered = answered_fast + answered_slow + abandoned and answered = fast + slow
  per district and province; abandoned = Σ abandoned at each IVR step; every count of
  the province = Σ over districts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from hotline.stats.definitions import (
    CALL_RESULTS,
    CASE_COUNTS,
    CASE_MULTI,
    CASE_PARTITIONS,
    CONTACT_COUNTS,
    INDICATOR_PARTS,
    INDICATORS,
    UNKNOWN,
)
from hotline.stats.suppression import Equation

Key = tuple[str, tuple[tuple[str, str], ...]]
Counts = Mapping[tuple[str, str, str], int]

DISTRICT = "district_code"
COMMUNE = "commune_code"


@lru_cache(maxsize=65536)
def key(measure: str, **dims: str) -> Key:
    return (measure, tuple(sorted(dims.items())))


@dataclass
class System:
    values: dict[Key, int] = field(default_factory=dict)
    equations: list[Equation] = field(default_factory=list)

    def cell(self, measure: str, value: int, **dims: str) -> Key:
        k = key(measure, **dims)
        self.values[k] = self.values.get(k, 0) + int(value)
        return k

    def eq(self, total: Key, parts: Iterable[Key]) -> None:
        self.equations.append(Equation(total, tuple(parts)))


def _domain(counts: Counts, tbl: str, base: Iterable[str]) -> list[str]:
    """The table's codes: the contract's codes plus any code found in the data."""
    seen = list(base)
    extra = sorted({k2 for (t, _d, k2) in counts if t == tbl} - set(seen))
    return seen + extra


def build_system(
    counts: Counts,
    districts: Iterable[str],
    place_pairs: Iterable[tuple[str, str]],
) -> System:
    """All cells and equations for one period over the province.

    ``districts``: former district codes (``unknown`` is added); ``place_pairs``: the
    (district, commune) pairs that exist (a commune's part in a former district).
    """
    s = System()
    ds = list(dict.fromkeys([*districts, UNKNOWN]))
    ds += sorted({k1 for (_t, k1, _k2) in counts} - set(ds))

    def c(tbl: str, d: str, k2: str = "") -> int:
        return counts.get((tbl, d, k2), 0)

    # --- cases by place -------------------------------------------------------------
    pairs = {(d, cm) for d, cm in place_pairs} | {(d, UNKNOWN) for d in ds}
    pairs |= {(d, k2) for (t, d, k2) in counts if t == "place"}
    pairs = sorted(pairs)
    communes = sorted({cm for _d, cm in pairs})
    grand = s.cell("cases", sum(c("place", d, cm) for d, cm in pairs))
    district_total = {
        d: s.cell("cases", sum(c("place", d, cm) for dd, cm in pairs if dd == d), **{DISTRICT: d})
        for d in ds
    }
    commune_total = {
        cm: s.cell("cases", sum(c("place", d, x) for d, x in pairs if x == cm), **{COMMUNE: cm})
        for cm in communes
    }
    pair_cell = {
        (d, cm): s.cell("cases", c("place", d, cm), **{DISTRICT: d, COMMUNE: cm})
        for d, cm in pairs
    }
    s.eq(grand, district_total.values())
    s.eq(grand, commune_total.values())
    for d in ds:
        s.eq(district_total[d], [pair_cell[p] for p in pairs if p[0] == d])
    for cm in communes:
        s.eq(commune_total[cm], [pair_cell[p] for p in pairs if p[1] == cm])

    # --- single-valued case dimensions ----------------------------------------------
    for dim, base in CASE_PARTITIONS.items():
        codes = _domain(counts, dim, base)
        cells = {
            (d, v): s.cell("cases", c(dim, d, v), **{DISTRICT: d, dim: v})
            for d in ds
            for v in codes
        }
        col = {v: s.cell("cases", sum(c(dim, d, v) for d in ds), **{dim: v}) for v in codes}
        for d in ds:
            s.eq(district_total[d], [cells[d, v] for v in codes])
        for v in codes:
            s.eq(col[v], [cells[d, v] for d in ds])
        s.eq(grand, col.values())

    # --- multi-valued case dimensions: no relation to the case totals ---------------
    for dim, base in CASE_MULTI.items():
        codes = _domain(counts, dim, base)
        for v in codes:
            total = s.cell("cases", sum(c(dim, d, v) for d in ds), **{dim: v})
            s.eq(total, [s.cell("cases", c(dim, d, v), **{DISTRICT: d, dim: v}) for d in ds])

    # --- indicators -------------------------------------------------------------------
    for ind in INDICATORS:
        m = f"ind:{ind.code}"
        part_cells = {
            (d, p): s.cell(m, c(ind.table, d, p), **{DISTRICT: d, "part": p})
            for d in ds
            for p in INDICATOR_PARTS
        }
        den = {
            d: s.cell(m, sum(c(ind.table, d, p) for p in INDICATOR_PARTS), **{DISTRICT: d})
            for d in ds
        }
        part_total = {
            p: s.cell(m, sum(c(ind.table, d, p) for d in ds), part=p) for p in INDICATOR_PARTS
        }
        den_total = s.cell(m, sum(den_v for den_v in (s.values[den[d]] for d in ds)))
        for d in ds:
            s.eq(den[d], [part_cells[d, p] for p in INDICATOR_PARTS])
        for p in INDICATOR_PARTS:
            s.eq(part_total[p], [part_cells[d, p] for d in ds])
        s.eq(den_total, den.values())
        s.eq(den_total, part_total.values())

    # --- calls --------------------------------------------------------------------------
    res = {
        (d, r): s.cell("calls", c("calls", d, r), **{DISTRICT: d, "result": r})
        for d in ds
        for r in CALL_RESULTS
    }
    offered = {
        d: s.cell("calls", sum(c("calls", d, r) for r in CALL_RESULTS), **{DISTRICT: d})
        for d in ds
    }
    res_total = {
        r: s.cell("calls", sum(c("calls", d, r) for d in ds), result=r) for r in CALL_RESULTS
    }
    offered_total = s.cell("calls", sum(s.values[offered[d]] for d in ds))
    fast_slow = ("answered_fast", "answered_slow")
    answered = {
        d: s.cell(
            "calls",
            sum(c("calls", d, r) for r in fast_slow),
            **{DISTRICT: d, "result": "answered"},
        )
        for d in ds
    }
    answered_total = s.cell("calls", sum(s.values[answered[d]] for d in ds), result="answered")
    for d in ds:
        s.eq(offered[d], [res[d, r] for r in CALL_RESULTS])
        s.eq(answered[d], [res[d, r] for r in fast_slow])
    for r in CALL_RESULTS:
        s.eq(res_total[r], [res[d, r] for d in ds])
    s.eq(offered_total, offered.values())
    s.eq(offered_total, res_total.values())
    s.eq(answered_total, answered.values())
    s.eq(answered_total, [res_total[r] for r in fast_slow])
    steps = _domain(counts, "abandoned_step", [])
    if steps:
        step_cells = {
            (d, st): s.cell("abandoned", c("abandoned_step", d, st), **{DISTRICT: d, "step": st})
            for d in ds
            for st in steps
        }
        step_total = {
            st: s.cell("abandoned", sum(c("abandoned_step", d, st) for d in ds), step=st)
            for st in steps
        }
        for d in ds:
            s.eq(res[d, "abandoned"], [step_cells[d, st] for st in steps])
        for st in steps:
            s.eq(step_total[st], [step_cells[d, st] for d in ds])
        s.eq(res_total["abandoned"], step_total.values())

    # --- other counts: one cell per district and the province total -------------------
    for tbl in (*CONTACT_COUNTS, *CASE_COUNTS):
        total = s.cell(tbl, sum(c(tbl, d) for d in ds))
        s.eq(total, [s.cell(tbl, c(tbl, d), **{DISTRICT: d}) for d in ds])
    return s
