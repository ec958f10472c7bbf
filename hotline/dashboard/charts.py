"""Charts drawn on the server as inline SVG: no chart library, no network, and the same
rows as the table beside each chart (suppressed values are drawn as gaps, never bars)."""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup, escape

from hotline.stats.views import Section, Value

WIDTH = 640
BAR_HEIGHT = 18
GAP = 6
LABEL_WIDTH = 230
COLOURS = ("#1f5f8b", "#3f8f5f", "#b5562b")


def _svg(height: int, label: str, body: str, cls: str) -> Markup:
    # Every text inside ``body`` went through escape() in this module.
    return Markup(  # noqa: S704
        f'<svg class="chart {cls}" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}" '
        f'font-size="12">{escape(text)}</text>'
    )


def bars(section: Section, fmt: Callable[[Value], str]) -> Markup:
    """Horizontal bars, one per row (a "Total" row is left out of the chart)."""
    rows = [r for r in section.rows if isinstance(r[1], Value)][:60]
    if rows and section.id not in ("abandoned_steps",) and str(rows[-1][0]) in _total_words():
        rows = rows[:-1]
    biggest = max((r[1].v or 0 for r in rows), default=0) or 1
    height = max(1, len(rows)) * (BAR_HEIGHT + GAP) + GAP
    span = WIDTH - LABEL_WIDTH - 70
    parts = []
    for i, (label, value, *_rest) in enumerate(rows):
        y = GAP + i * (BAR_HEIGHT + GAP)
        parts.append(_text(LABEL_WIDTH - 6, y + 13, str(label)[:38], "end"))
        if value.v is None:
            parts.append(_text(LABEL_WIDTH + 4, y + 13, fmt(value), cls="suppressed"))
            continue
        w = span * (value.v / biggest)
        parts.append(
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{w:.1f}" '
            f'height="{BAR_HEIGHT}" fill="{COLOURS[0]}"><title>{escape(str(label))}: '
            f"{escape(fmt(value))}</title></rect>"
        )
        parts.append(_text(LABEL_WIDTH + w + 4, y + 13, fmt(value)))
    return _svg(height, section.title, "".join(parts), "bars")


def columns(section: Section, fmt: Callable[[Value], str]) -> Markup:
    """Month-by-month columns of calls offered, answered and abandoned."""
    rows = section.rows
    series = (1, 2, 3)
    biggest = max((r[i].v or 0 for r in rows for i in series), default=0) or 1
    height, top, bottom, left = 240, 20, 40, 64
    plot_h = height - top - bottom
    slot = (WIDTH - left - 10) / max(1, len(rows))
    col_w = max(2.0, slot / (len(series) + 1))
    parts = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH - 5}" y2="{top + plot_h}" '
        'stroke="#555" stroke-width="1"/>'
    ]
    for i, row in enumerate(rows):
        x0 = left + i * slot
        for j, s in enumerate(series):
            value = row[s]
            if value.v is None:
                continue
            h = plot_h * value.v / biggest
            parts.append(
                f'<rect class="bar" x="{x0 + j * col_w:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{col_w - 1:.1f}" height="{h:.1f}" fill="{COLOURS[j]}">'
                f"<title>{escape(str(row[0]))} · {escape(section.headers[s])}: "
                f"{escape(fmt(value))}</title></rect>"
            )
        parts.append(_text(x0 + slot / 2, height - bottom + 14, str(row[0])[-5:], "middle"))
    for j, s in enumerate(series):
        x = left + j * 170
        parts.append(
            f'<rect x="{x}" y="{height - 16}" width="10" height="10" fill="{COLOURS[j]}"/>'
        )
        parts.append(_text(x + 14, height - 7, section.headers[s]))
    parts.append(_text(left - 4, top + 4, fmt(Value(biggest)), "end"))
    return _svg(height, section.title, "".join(parts), "columns")


def progress(section: Section, fmt: Callable[[Value], str]) -> Markup:
    """Each indicator's share as a bar out of 100 %, with its target marked."""
    row_h = 46
    height = len(section.rows) * row_h + 10
    span = WIDTH - 20
    parts = []
    for i, row in enumerate(section.rows):
        label, share, target = str(row[0]), row[4], row[5]
        y = 8 + i * row_h
        parts.append(_text(10, y + 11, label[:95]))
        parts.append(
            f'<rect x="10" y="{y + 16}" width="{span}" height="16" fill="#e6e6e6" rx="2"/>'
        )
        if share.v is not None:
            parts.append(
                f'<rect class="bar" x="10" y="{y + 16}" width="{span * min(1, share.v):.1f}" '
                f'height="16" fill="{COLOURS[1]}" rx="2"><title>{escape(fmt(share))}</title>'
                "</rect>"
            )
        if target.v is not None:
            tx = 10 + span * target.v
            parts.append(
                f'<line class="target" x1="{tx:.1f}" y1="{y + 12}" x2="{tx:.1f}" '
                f'y2="{y + 36}" stroke="#b00" stroke-width="2"/>'
            )
        parts.append(_text(WIDTH - 12, y + 28, fmt(share) + " / " + fmt(target), "end"))
    return _svg(height, section.title, "".join(parts), "progress")


def _total_words() -> set[str]:
    from flask_babel import gettext as _

    return {_("Total")}


def render(section: Section, fmt: Callable[[Value], str]) -> Markup | None:
    if section.chart == "bars":
        return bars(section, fmt)
    if section.chart == "columns":
        return columns(section, fmt)
    if section.chart == "progress":
        return progress(section, fmt)
    return None
