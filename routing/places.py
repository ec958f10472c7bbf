"""Quảng Ninh administrative units, read from the bundled GSO data.

The CSV files in ``routing/data/quang-ninh/`` are the single source for places: the
``geo load`` command stores them in the database and the routing engine reads them
directly, so both always agree. See ``SOURCES.md`` there for provenance.

Codes are reused across the 2024 and 2025 versions: never join the two by code or by
name, only through the merge table (:class:`Merge`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data" / "quang-ninh"

#: Codes other published datasets use for a 2025 commune, mapped to the official one.
#: thanglequoc/vietnamese-provinces-database before v4.2.1 wrote Xã Ba Chẽ as 06978.
COMMUNE_CODE_ALIASES: dict[str, str] = {"06978": "06970"}


@dataclass(frozen=True, slots=True)
class District:
    """A pre-2025 district-level unit (thành phố, thị xã or huyện)."""

    code: str
    name: str
    type: str
    full_name: str


@dataclass(frozen=True, slots=True)
class OldCommune:
    """A pre-2025 commune-level unit (phường, xã or thị trấn), in force until 30/06/2025."""

    code: str
    name: str
    type: str
    district_code: str
    full_name: str


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune-level unit in force since 01/07/2025 (phường, xã or đặc khu)."""

    code: str
    name: str
    type: str
    full_name: str


@dataclass(frozen=True, slots=True)
class Merge:
    """One row of the 2025 arrangement: (part of) an old commune went into a new one."""

    new_code: str
    old_code: str
    merge_type: str  # "full" or "partial"
    resolution_clause: str


class Gazetteer:
    """All units of both versions and the mapping between them, with lookups by code."""

    def __init__(
        self,
        districts: tuple[District, ...],
        old_communes: tuple[OldCommune, ...],
        communes: tuple[Commune, ...],
        merges: tuple[Merge, ...],
    ) -> None:
        self.districts = districts
        self.old_communes = old_communes
        self.communes = communes
        self.merges = merges
        self._districts = {d.code: d for d in districts}
        self._old = {c.code: c for c in old_communes}
        self._new = {c.code: c for c in communes}
        new_for_old: dict[str, list[str]] = {}
        districts_for_new: dict[str, list[str]] = {}
        for m in merges:
            new_for_old.setdefault(m.old_code, []).append(m.new_code)
            district = self._old[m.old_code].district_code
            seen = districts_for_new.setdefault(m.new_code, [])
            if district not in seen:
                seen.append(district)
        self._new_for_old = {k: tuple(v) for k, v in new_for_old.items()}
        self._districts_for_new = {k: tuple(v) for k, v in districts_for_new.items()}
        new_for_district: dict[str, set[str]] = {}
        for m in merges:
            new_for_district.setdefault(self._old[m.old_code].district_code, set()).add(m.new_code)
        self._new_for_district = {
            d: tuple(
                sorted(codes, key=lambda c: (self._new[c].name != self._districts[d].name, c))
            )
            for d, codes in new_for_district.items()
        }

    def commune(self, code: str) -> Commune | None:
        """The 2025 commune with this code (accepting known aliases), or None."""
        return self._new.get(COMMUNE_CODE_ALIASES.get(code, code))

    def old_commune(self, code: str) -> OldCommune | None:
        """The pre-2025 commune with this code, or None."""
        return self._old.get(code)

    def district(self, code: str) -> District | None:
        """The pre-2025 district with this code, or None."""
        return self._districts.get(code)

    def new_codes_for_old(self, old_code: str) -> tuple[str, ...]:
        """2025 commune codes that (parts of) this pre-2025 commune went into."""
        return self._new_for_old.get(old_code, ())

    def old_districts_of(self, new_code: str) -> tuple[str, ...]:
        """Pre-2025 district codes a 2025 commune was formed from (one or two)."""
        return self._districts_for_new.get(new_code, ())

    def communes_of_district(self, district_code: str) -> tuple[str, ...]:
        """2025 communes formed wholly or partly from a pre-2025 district: the one named like
        the district (its seat) first, then by code."""
        return self._new_for_district.get(district_code, ())


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def load_gazetteer() -> Gazetteer:
    """Read the bundled CSV files once per process."""
    return Gazetteer(
        districts=tuple(
            District(r["code"], r["name"], r["type"], r["full_name"])
            for r in _rows("districts-2024.csv")
        ),
        old_communes=tuple(
            OldCommune(r["code"], r["name"], r["type"], r["district_code"], r["full_name"])
            for r in _rows("communes-2024.csv")
        ),
        communes=tuple(
            Commune(r["code"], r["name"], r["type"], r["full_name"])
            for r in _rows("communes-2025.csv")
        ),
        merges=tuple(
            Merge(r["new_code"], r["old_code"], r["merge_type"], r["resolution_clause"])
            for r in _rows("merge-2025.csv")
        ),
    )
