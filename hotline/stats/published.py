"""The numbers already pushed, per period and cell (:class:`models.stats.PublishedValue`):
what the joint suppression of a year holds fixed (docs/statistics.md, "Suppression")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from hotline.stats.periods import Period, periods_of_year
from hotline.stats.tables import Key
from models import db
from models.stats import PublishedValue
from models.types import utcnow


def cell_text(k: Key) -> str:
    measure, dims = k
    return json.dumps([measure, [list(d) for d in dims]], separators=(",", ":"))


def cell_key(text: str) -> Key:
    measure, dims = json.loads(text)
    return (measure, tuple((d, c) for d, c in dims))


@dataclass(frozen=True)
class Pushed:
    """What a year's pushes fix: cells pushed as a number (``known``), and cells pushed
    suppressed with their true count then (``sticky``)."""

    known: frozenset[tuple[str, Key]]
    sticky: tuple[tuple[tuple[str, Key], int], ...]


def pushed_cells(y: int) -> Pushed:
    """Every (period code, cell) of year ``y`` pushed so far."""
    codes = [p.code for p in periods_of_year(y)]
    known = set()
    sticky = []
    for period, cell, value, suppressed, number in db.session.execute(
        select(
            PublishedValue.period,
            PublishedValue.cell,
            PublishedValue.value,
            PublishedValue.suppressed,
            PublishedValue.published_value,
        ).where(PublishedValue.year == y, PublishedValue.period.in_(codes))
    ):
        k = (period, cell_key(cell))
        if number is not None:
            known.add(k)
        elif suppressed:
            sticky.append((k, int(value)))
    return Pushed(frozenset(known), tuple(sorted(sticky, key=repr)))


def pushed_values(period: Period) -> dict[Key, int | None]:
    """Cell → what the last push of ``period`` carried (None: suppressed)."""
    rows = db.session.execute(
        select(PublishedValue.cell, PublishedValue.value, PublishedValue.suppressed).where(
            PublishedValue.period == period.code
        )
    )
    return {cell_key(cell): None if hidden else int(value) for cell, value, hidden in rows}


def record_pushed(period: Period, cells: Mapping[Key, tuple[int, int | None]]) -> int:
    """Remember what a push carries: ``cells`` maps each cell to (true count, number
    shown or None when suppressed). In the current transaction; returns the number of
    cells recorded."""
    if period.kind == "custom":
        raise ValueError("custom ranges are never pushed")
    now = utcnow()
    existing = {
        row.cell: row
        for row in db.session.scalars(
            select(PublishedValue).where(PublishedValue.period == period.code)
        )
    }
    for k, (true, shown) in cells.items():
        text = cell_text(k)
        row = existing.get(text)
        if row is None:
            row = PublishedValue(
                period=period.code, cell=text, year=period.start.year, first_pushed_at=now
            )
            db.session.add(row)
        if (row.value, row.suppressed) != (int(true), shown is None) or row.pushed_at is None:
            row.value = int(true)
            row.suppressed = shown is None
            row.pushed_at = now
        if shown is not None:
            row.published_value = int(shown)
    return len(cells)
