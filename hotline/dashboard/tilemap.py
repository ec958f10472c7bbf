"""A schematic tile map of Quảng Ninh's 13 former districts: one square each, placed
roughly as the province lies (west Đông Triều … east Móng Cái along the coast, the
mountain districts Ba Chẽ and Bình Liêu to the north, the islands Vân Đồn and Cô Tô
offshore). No boundary data with a clear licence is available offline, so the map is a
grid, not a projection; the tiles keep their neighbours, not their shapes or sizes.
"""

from __future__ import annotations

#: district code → (column, row, short name for narrow screens). Columns run west → east,
#: rows north → south.
TILES: dict[str, tuple[int, int, str]] = {
    "202": (3, 0, "BC"),  # Ba Chẽ
    "198": (5, 0, "BL"),  # Bình Liêu
    "205": (0, 1, "ĐT"),  # Đông Triều
    "196": (1, 1, "UB"),  # Uông Bí
    "193": (2, 1, "HL"),  # Hạ Long
    "195": (3, 1, "CP"),  # Cẩm Phả
    "199": (4, 1, "TY"),  # Tiên Yên
    "200": (5, 1, "ĐH"),  # Đầm Hà
    "201": (6, 1, "HH"),  # Hải Hà
    "194": (7, 1, "MC"),  # Móng Cái
    "206": (1, 2, "QY"),  # Quảng Yên
    "203": (4, 2, "VĐ"),  # Vân Đồn
    "207": (6, 2, "CT"),  # Cô Tô
}
COLUMNS = 1 + max(c for c, _r, _s in TILES.values())
ROWS = 1 + max(r for _c, r, _s in TILES.values())

#: Fill per class (0 = none … 4 = most), light to dark: the steps differ in lightness, so
#: they survive greyscale printing; the count is written on every tile as well.
FILLS = ("#ffffff", "#dbe7f3", "#9ec3e2", "#4a86bd", "#1d4a7a")
#: Text on each class: dark on light tiles, white on dark ones.
INKS = ("#1b1b1b", "#1b1b1b", "#1b1b1b", "#ffffff", "#ffffff")


def breaks(values: list[int | None]) -> list[int]:
    """Upper bounds of classes 1-4 (class 0 is exactly 0): equal steps up to the largest
    published count, rounded up to a whole number."""
    top = max((v for v in values if v), default=0)
    if not top:
        return []
    step = -(-top // 4)
    return [step, 2 * step, 3 * step, 4 * step]


def shade(value: int | None, bounds: list[int]) -> int | None:
    """The class of a count (None for a suppressed one, drawn hatched instead)."""
    if value is None:
        return None
    if value == 0 or not bounds:
        return 0
    for i, b in enumerate(bounds, start=1):
        if value <= b:
            return i
    return len(bounds)
