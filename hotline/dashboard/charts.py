"""Charts drawn on the server as inline SVG: no chart library, no script, no network.

Every chart is drawn at its own size (``width``/``height`` in CSS pixels) and only ever
shrinks to fit: narrow layouts get their own drawing (``narrow=True``) instead of a wide one
scaled down, so no label is smaller than 12 px on a 390 px phone. Colours step in lightness
and lines differ in dash and marker, so the charts survive greyscale printing. Suppressed
values (``None``) are never drawn as bars, points or 0: they are written "—" and explained
in a note beside the chart. Every text inside the SVG goes through :func:`escape`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from flask_babel import gettext as _
from markupsafe import Markup, escape

from hotline.dashboard import tilemap
from hotline.stats.views import Section, Value

FONT = 13
INK = "#1b1b1b"
MUTED = "#555555"
BAR = "#1d4a7a"
GRID = "#c9c9c4"
#: Line series: (stroke, dash pattern, marker) — dark solid circles, mid dashed squares.
SERIES = (("#1d4a7a", "", "circle"), ("#4a86bd", "6 4", "square"), ("#777777", "2 3", "diamond"))
#: Width of the narrow drawings: fits a 390 px phone with the page's padding.
NARROW = 330

Fmt = Callable[[Value], str]


def _svg(width: float, height: float, label: str, body: str, cls: str, defs: str = "") -> Markup:
    # Every text inside ``body`` and ``defs`` went through escape() in this module.
    return Markup(  # noqa: S704
        f'<svg class="chart {cls}" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'xmlns="http://www.w3.org/2000/svg">{defs}{body}</svg>'
    )


def _text(
    x: float,
    y: float,
    text: str,
    anchor: str = "start",
    *,
    size: int = FONT,
    fill: str = INK,
    weight: str = "",
    cls: str = "",
) -> str:
    w = f' font-weight="{weight}"' if weight else ""
    c = f' class="{cls}"' if cls else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}"{w}{c}>{escape(text)}</text>'
    )


def _hatch(pid: str) -> str:
    return (
        f'<defs><pattern id="{pid}-hatch" patternUnits="userSpaceOnUse" width="6" height="6" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#9a9a95" stroke-width="1.5"/></pattern></defs>'
    )


def _clip(label: str, n: int) -> str:
    return label if len(label) <= n else label[: n - 1].rstrip() + "…"


# --- bars ----------------------------------------------------------------------------------


def bars(
    rows: Sequence[tuple[str, Value]],
    fmt: Fmt,
    title: str,
    *,
    width: int = NARROW,
    label_width: int = 150,
    ranked: bool = False,
) -> Markup:
    """Horizontal bars, one row each, label on the left and the value after the bar.
    ``ranked``: largest first, then the suppressed rows (their rank is unknown)."""
    rows = list(rows)
    if ranked:
        shown = sorted((r for r in rows if r[1].v is not None), key=lambda r: -(r[1].v or 0))
        rows = shown + [r for r in rows if r[1].v is None]
    row_h, bar_h = 24, 14
    height = max(1, len(rows)) * row_h + 6
    value_room = 56
    span = width - label_width - value_room
    biggest = max((r[1].v or 0 for r in rows), default=0) or 1
    max_chars = max(8, int((label_width - 8) / (FONT * 0.56)))
    parts = []
    for i, (label, value) in enumerate(rows):
        y = 4 + i * row_h
        parts.append(
            f"<g><title>{escape(str(label))}: {escape(fmt(value))}</title>"
            + _text(label_width - 6, y + 15, _clip(str(label), max_chars), "end")
        )
        if value.v is None:
            parts.append(_text(label_width + 4, y + 15, "—", fill=MUTED, cls="suppressed"))
        else:
            w = span * (value.v / biggest)
            if w > 0:
                parts.append(
                    f'<rect class="bar" x="{label_width}" y="{y + 4}" width="{w:.1f}" '
                    f'height="{bar_h}" fill="{BAR}"/>'
                )
            parts.append(_text(label_width + w + 4, y + 15, fmt(value), cls="value"))
        parts.append("</g>")
    parts.append(
        f'<line x1="{label_width}" y1="2" x2="{label_width}" y2="{height - 2}" '
        f'stroke="{MUTED}" stroke-width="1"/>'
    )
    return _svg(width, height, title, "".join(parts), "bars" + (" ranked" if ranked else ""))


# --- lines over months ---------------------------------------------------------------------


def _nice(top: float) -> float:
    if top <= 0:
        return 1
    exp = 10 ** math.floor(math.log10(top))
    for m in (1, 2, 2.5, 5, 10):
        if top <= m * exp:
            return m * exp
    return 10 * exp  # pragma: no cover


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return (
            f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="#ffffff" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
    if kind == "diamond":
        return (
            f'<path d="M{x:.1f} {y - 4.5:.1f}L{x + 4.5:.1f} {y:.1f}L{x:.1f} {y + 4.5:.1f}'
            f'L{x - 4.5:.1f} {y:.1f}Z" fill="{colour}"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'


def lines(
    months: Sequence[str],
    series: Sequence[tuple[str, Sequence[Value]]],
    fmt: Fmt,
    title: str,
    *,
    narrow: bool = False,
) -> Markup:
    """One line per series over the months (``YYYY-MM`` codes); a suppressed month is a
    gap in the line with "—" on the axis, never a point at 0."""
    width = NARROW if narrow else 900
    legend_h = 20 * len(series) + 4
    top, bottom, left, right = legend_h + 10, 40, 52, 14
    height = (200 if narrow else 230) + legend_h
    plot_h = height - top - bottom
    plot_w = width - left - right
    values = [v.v for _name, vs in series for v in vs if v.v is not None]
    top_value = _nice(max(values, default=0))
    n = max(1, len(months))
    slot = plot_w / n

    def x_at(i: int) -> float:
        return left + slot * (i + 0.5)

    def y_at(v: float) -> float:
        return top + plot_h - plot_h * v / top_value

    parts = []
    for j, (name, _vs) in enumerate(series):
        colour, dash, marker = SERIES[j % len(SERIES)]
        y = 14 + j * 20
        d = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{left}" y1="{y - 4}" x2="{left + 28}" y2="{y - 4}" stroke="{colour}" '
            f'stroke-width="2.5"{d}/>' + _marker(marker, left + 14, y - 4, colour)
        )
        parts.append(_text(left + 36, y, name))
    for frac in (0, 0.5, 1):
        gy = top + plot_h - plot_h * frac
        parts.append(
            f'<line x1="{left}" y1="{gy:.1f}" x2="{width - right}" y2="{gy:.1f}" '
            f'stroke="{GRID if frac else MUTED}" stroke-width="1"/>'
        )
        label = top_value * frac
        kind = series[0][1][0].kind if series and series[0][1] else "count"
        if kind == "count" and label != int(label):
            continue  # no half calls on the axis
        shown = label if kind == "rate" else int(label)
        parts.append(_text(left - 6, gy + 4, fmt(Value(shown, kind)), "end", fill=MUTED))
    every = 1 if slot >= 26 else 2 if slot >= 13 else 3
    for i, code in enumerate(months):
        yr, mo = code[:4], code[5:7]
        if i % every == 0 or mo == "01":
            parts.append(_text(x_at(i), height - bottom + 16, mo, "middle", fill=MUTED))
        if i == 0 or mo == "01":
            parts.append(_text(x_at(i), height - bottom + 32, yr, "middle", fill=MUTED))
    for j, (name, vs) in enumerate(series):
        colour, dash, marker = SERIES[j % len(SERIES)]
        d = f' stroke-dasharray="{dash}"' if dash else ""
        path, pen = [], False
        for i, v in enumerate(vs):
            if v.v is None:
                pen = False
                if j == 0 or all(s[1][i].v is not None for s in series[:j]):
                    parts.append(
                        _text(
                            x_at(i), top + plot_h - 6, "—", "middle", fill=MUTED, cls="suppressed"
                        )
                    )
                continue
            path.append(f"{'L' if pen else 'M'}{x_at(i):.1f} {y_at(v.v):.1f}")
            pen = True
        if path:
            parts.append(
                f'<path class="line" d="{" ".join(path)}" fill="none" stroke="{colour}" '
                f'stroke-width="2.5"{d}/>'
            )
        for i, v in enumerate(vs):
            if v.v is not None:
                parts.append(
                    f'<g class="point"><title>{escape(months[i])} · {escape(name)}: '
                    f"{escape(fmt(v))}</title>{_marker(marker, x_at(i), y_at(v.v), colour)}</g>"
                )
    cls = "lines narrow" if narrow else "lines wide"
    return _svg(width, height, title, "".join(parts), cls)


# --- tile map ------------------------------------------------------------------------------


def tile_map(
    values: dict[str, Value],
    names: dict[str, str],
    fmt: Fmt,
    title: str,
    *,
    narrow: bool = False,
) -> Markup:
    """The 13 former districts as squares (:mod:`hotline.dashboard.tilemap`), shaded by
    count in lightness steps with the count written on each; suppressed ones hatched."""
    pid = "tm-n" if narrow else "tm-w"
    tile, gap = (38, 2) if narrow else (70, 4)
    step = tile + gap
    map_w = tilemap.COLUMNS * step + gap
    width = max(map_w, NARROW) if narrow else map_w
    map_h = tilemap.ROWS * step + gap
    bounds = tilemap.breaks([v.v for v in values.values()])
    parts = []
    for code, (col, row, short) in tilemap.TILES.items():
        value = values.get(code)
        outside = value is None  # not in this view (a district's own page)
        value = value or Value(None)
        cls = tilemap.shade(value.v, bounds)
        x, y = gap + col * step, gap + row * step
        fill = f"url(#{pid}-hatch)" if cls is None else tilemap.FILLS[cls]
        ink = INK if cls is None else tilemap.INKS[cls]
        if outside:
            fill, ink = "#ecece8", MUTED
        name = names.get(code, code)
        parts.append(
            f'<g class="tile{" outside" if outside else ""}" data-code="{code}" '
            f'data-col="{col}" data-row="{row}">'
            f"<title>{escape(name)}: {escape('' if outside else fmt(value))}</title>"
            f'<rect x="{x}" y="{y}" width="{tile}" height="{tile}" fill="{fill}" '
            f'stroke="{MUTED}" stroke-width="1"/>'
        )
        shown = "" if outside else fmt(value)
        if cls is None:  # a white patch under the "—" so the hatching does not hide it
            pw, ph = (22, 14) if narrow else (30, 20)
            ty = y + 26 if narrow else y + tile - 27
            parts.append(
                f'<rect x="{x + (tile - pw) / 2:.1f}" y="{ty:.1f}" width="{pw}" height="{ph}" '
                'fill="#ffffff"/>'
            )
        if narrow:
            parts.append(
                _text(x + tile / 2, y + 16, short, "middle", size=12, fill=ink, weight="700")
            )
            parts.append(_text(x + tile / 2, y + 31, shown, "middle", size=12, fill=ink))
        else:
            words = name.split(" ")
            lines_ = [" ".join(words[:1]), " ".join(words[1:])] if len(words) > 1 else [name]
            for k, line in enumerate(lines_):
                parts.append(_text(x + tile / 2, y + 20 + k * 15, line, "middle", fill=ink))
            parts.append(
                _text(
                    x + tile / 2, y + tile - 12, shown, "middle", size=15, fill=ink, weight="700"
                )
            )
        parts.append("</g>")
    # Legend: the classes, then the hatched "suppressed" swatch.
    items: list[tuple[str, str]] = [(tilemap.FILLS[0], "0")]
    lo = 1
    for i, b in enumerate(bounds, start=1):
        items.append((tilemap.FILLS[i], f"{lo}–{b}" if b > lo else str(b)))
        lo = b + 1
    per_row = 3
    col_w = (width - gap) / per_row
    class_rows = (len(items) + per_row - 1) // per_row
    ly = map_h + 8
    places = [((k % per_row) * col_w + gap, ly + (k // per_row) * 22) for k in range(len(items))]
    items.append((f"url(#{pid}-hatch)", _("— hidden (small numbers)")))
    places.append((gap, ly + class_rows * 22))
    for (fill, label), (lx, yy) in zip(items, places, strict=True):
        parts.append(
            f'<rect x="{lx:.1f}" y="{yy}" width="16" height="16" fill="{fill}" '
            f'stroke="{MUTED}" stroke-width="1"/>'
        )
        parts.append(_text(lx + 22, yy + 13, label, size=12 if narrow else FONT))
    height = ly + (class_rows + 1) * 22 + 4
    cls = "tilemap narrow" if narrow else "tilemap wide"
    return _svg(width, height, title, "".join(parts), cls, _hatch(pid))


# --- the detail tabs' charts ---------------------------------------------------------------


def _total_words() -> set[str]:
    return {_("Total")}


def section_bars(section: Section, fmt: Fmt) -> Markup:
    """A detail section's rows as bars (its "Total" row left out; communes ranked)."""
    rows = [(str(r[0]), r[1]) for r in section.rows if isinstance(r[1], Value)]
    if rows and section.id != "abandoned_steps" and rows[-1][0] in _total_words():
        rows = rows[:-1]
    return bars(rows, fmt, section.title, ranked=section.id in ("communes", "districts"))


def render(section: Section, fmt: Fmt) -> Markup | None:
    """The chart of a detail section, or None (the indicators and the months are drawn
    by the templates' own blocks; the metrics table has none)."""
    if section.chart == "bars":
        return section_bars(section, fmt)
    if section.chart == "columns":
        months = [str(r[0]) for r in section.rows]
        series = [(section.headers[i], [r[i] for r in section.rows]) for i in (1, 2, 3)]
        return Markup("").join(
            lines(months, series, fmt, section.title, narrow=n) for n in (False, True)
        )
    return None
