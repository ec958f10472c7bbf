"""The overview's numbers and drawings without a browser: the change against the previous
period, the tile map's placement, suppressed values never drawn as numbers, the tabs, the
month-only custom range and the printable report."""

from __future__ import annotations

import itertools
import re
from datetime import date
from html import unescape

import pytest
from flask_babel import refresh

from hotline.dashboard import charts, tilemap
from hotline.dashboard.overview import Change, change, previous_period, trend_period
from hotline.stats.periods import PeriodError, custom, half, month, parse_period, year
from hotline.stats.report import district_codes
from hotline.stats.views import Value
from tests.dashboard.conftest import login

Q = "?period=2026-S1&lang=en"


def plain(value: Value) -> str:
    return "—" if value.v is None else str(value.v)


# --- the previous period ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (month(2026, 3), "2026-02"),
        (month(2026, 1), "2025-12"),
        (half(2026, 1), "2025-S2"),
        (half(2026, 2), "2026-S1"),
        (year(2026), "2025"),
        (custom(date(2026, 1, 1), date(2026, 3, 31)), "2025-10-01..2025-12-31"),
        (custom(date(2026, 2, 1), date(2026, 4, 30)), "2025-11-01..2026-01-31"),
    ],
)
def test_previous_period_has_the_same_length(period, expected):
    prev = previous_period(period)
    assert prev is not None and prev.code == expected
    assert prev.end == period.start


def test_no_previous_period_before_the_years_reported_on():
    assert previous_period(parse_period("2020-01")) is None
    assert previous_period(parse_period("2020")) is None


def test_a_single_month_trends_over_its_year_to_date():
    span = trend_period(month(2026, 3))
    assert [m.code for m in span.months()] == ["2026-01", "2026-02", "2026-03"]
    assert trend_period(month(2026, 1)) == month(2026, 1)
    assert trend_period(half(2026, 1)) == half(2026, 1)


# --- the change ------------------------------------------------------------------------


def test_change_of_a_count_is_relative():
    c = change(Value(120), Value(100))
    assert c == Change(20.0, "percent") and c.direction == "up"
    assert change(Value(80), Value(100)).delta == -20.0
    assert change(Value(100), Value(100)).direction == "same"


@pytest.mark.parametrize(
    ("previous", "reason"),
    [(Value(0), "previous_zero"), (Value(None), "previous_suppressed"), (None, "no_previous")],
)
def test_no_percentage_from_zero_or_hidden_or_missing_previous(previous, reason):
    c = change(Value(12), previous)
    assert c.delta is None and c.reason == reason and c.direction is None


def test_no_change_when_the_current_value_is_hidden():
    assert change(Value(None), Value(40)).reason == "suppressed"


def test_rates_move_in_points_and_times_in_their_unit():
    assert change(Value(0.9, "rate"), Value(0.85, "rate")) == Change(5.0, "points")
    assert change(Value(0.5, "rate"), Value(0.0, "rate")) == Change(50.0, "points")
    assert change(Value(12.5, "seconds"), Value(20.0, "seconds")) == Change(-7.5, "seconds")
    assert change(Value(30, "minutes"), Value(None, "minutes")).reason == "previous_suppressed"


# --- the tile map -------------------------------------------------------------------------


def test_tile_map_places_the_13_former_districts_without_overlap(ctx):
    assert set(tilemap.TILES) == set(district_codes())
    assert len(tilemap.TILES) == 13
    cells = [(c, r) for c, r, _s in tilemap.TILES.values()]
    assert len(set(cells)) == 13
    assert all(0 <= c < tilemap.COLUMNS and 0 <= r < tilemap.ROWS for c, r in cells)
    shorts = [s for _c, _r, s in tilemap.TILES.values()]
    assert len(set(shorts)) == 13
    # West to east along the coast, the islands to the south.
    col = {code: c for code, (c, _r, _s) in tilemap.TILES.items()}
    row = {code: r for code, (_c, r, _s) in tilemap.TILES.items()}
    assert col["205"] < col["196"] < col["193"] < col["195"] < col["194"]
    assert col["194"] == tilemap.COLUMNS - 1
    assert row["203"] > row["195"] and row["207"] > row["201"]
    for narrow in (False, True):
        svg = charts.tile_map({c: Value(7) for c in tilemap.TILES}, {}, plain, "m", narrow=narrow)
        rects = [
            tuple(float(n) for n in m)
            for m in re.findall(
                r'<g class="tile"[^>]*><title>[^<]*</title><rect x="([\d.]+)" y="([\d.]+)" '
                r'width="([\d.]+)" height="([\d.]+)"',
                str(svg),
            )
        ]
        assert len(rects) == 13
        for i, (x, y, w, h) in enumerate(rects):
            for x2, y2, w2, h2 in rects[i + 1 :]:
                assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y


def test_tile_classes_step_in_lightness():
    def lightness(hex_colour: str) -> float:
        r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    steps = [lightness(f) for f in tilemap.FILLS]
    assert all(a - b > 25 for a, b in itertools.pairwise(steps))
    assert tilemap.breaks([0, 5, 40]) == [10, 20, 30, 40]
    assert [tilemap.shade(v, [10, 20, 30, 40]) for v in (0, 5, 11, 40, None)] == [0, 1, 2, 4, None]


# --- suppressed values ----------------------------------------------------------------------


def test_suppressed_values_are_never_drawn_as_numbers():
    rows = [("Hạ Long", Value(40)), ("Uông Bí", Value(None)), ("Cô Tô", Value(0))]
    svg = str(charts.bars(rows, plain, "t", ranked=True))
    assert svg.count('class="bar"') == 1  # 40 has a bar; 0 and the hidden one have none
    assert re.search(r"<title>Uông Bí: —</title>", svg)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert texts[:2] == ["Hạ Long", "40"] and texts[-2:] == ["Uông Bí", "—"]  # ranked last

    names = {code: f"D{short}" for code, (_c, _r, short) in tilemap.TILES.items()}
    svg = str(charts.tile_map({"193": Value(40), "196": Value(None)}, names, plain, "m"))
    tile = re.search(r'<g class="tile" data-code="196".*?</g>', svg).group(0)
    assert 'fill="url(#tm-w-hatch)"' in tile
    assert not re.search(r">\d+<", tile)
    assert "—" in tile
    outside = re.search(r'<g class="tile outside" data-code="207".*?</g>', svg).group(0)
    assert not re.search(r">[\d—]+<", outside)  # not in the view: neither 0 nor "—"

    svg = str(
        charts.lines(
            ["2026-01", "2026-02", "2026-03"],
            [("x", [Value(5), Value(None), Value(7)])],
            plain,
            "t",
        )
    )
    path = re.search(r'<path class="line" d="([^"]+)"', svg).group(1)
    assert path.count("M") == 2 and "L" not in path  # a gap, not a dip to 0
    assert svg.count('class="point"') == 2


def test_svg_text_is_at_least_12_px():
    rows = [(f"Place {i}", Value(i * 10)) for i in range(20)]
    svgs = [
        charts.bars(rows, plain, "t"),
        charts.lines(
            ["2026-01", "2026-02"], [("a", [Value(1), Value(2)])], plain, "t", narrow=True
        ),
        charts.tile_map({c: Value(9) for c in tilemap.TILES}, {}, plain, "m", narrow=True),
    ]
    for svg in svgs:
        sizes = [int(s) for s in re.findall(r'font-size="(\d+)"', str(svg))]
        assert sizes and min(sizes) >= 12
        assert 'style="' not in str(svg)
    for svg in svgs[1:]:
        assert int(re.search(r'width="(\d+)"', str(svg)).group(1)) <= charts.NARROW


# --- the pages ----------------------------------------------------------------------------


def test_overview_comes_first_with_kpis_indicators_trend_and_map(app, manager, spread):
    client = app.test_client()
    login(client, manager)
    html = client.get("/dashboard/" + Q).get_data(as_text=True)
    assert html.count('class="kpi"') == 8
    for code in ("CALLS_OFFERED", "ANSWER_RATE", "SERVICE_LEVEL_20S", "CASES"):
        assert f'data-kpi="{code}"' in html
    # No calls in either half-year: "no data", never a percentage from 0.
    calls = re.search(r'data-kpi="CALLS_OFFERED".*?</li>', html, re.S).group(0)
    assert "no data: 0 before" in calls and "%" not in calls
    rate = re.search(r'data-kpi="ANSWER_RATE".*?</li>', html, re.S).group(0)
    assert "n/a" in rate and "none in this period" in rate
    # 45 cases in 2026-S1 against 15 in 2025-S2: +200 %.
    cases = re.search(r'data-kpi="CASES".*?</li>', html, re.S).group(0)
    assert ">45<" in cases and "+200 %" in cases and "Before: 15" in cases
    assert html.count('data-indicator="') == 3 and "Target 2030: 90.0%" in html
    assert 'data-chart="trend-calls"' in html and 'data-chart="tilemap"' in html
    assert html.count('<g class="tile"') == 26  # wide and narrow drawings
    # Uông Bí's three cases are hidden, on the map, in the ranking and in the table.
    assert re.search(r'data-code="196"[^>]*><title>[^<]*: —</title>', html)
    assert re.search(r"Thành phố Uông Bí</th><td>UB</td><td class=\"num suppressed\">—</td>", html)
    assert 'style="' not in html.split("<main", 1)[1]
    assert "<script>" not in html and "http://" not in html.split("<main", 1)[1].replace(
        "http://www.w3.org/2000/svg", ""
    )


def test_a_former_districts_overview_shows_it_alone_on_the_map(app, manager, spread):
    client = app.test_client()
    login(client, manager)
    r = client.get("/dashboard/?period=2026-S1&district=193&lang=en")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Thành phố Hạ Long" in html.split('class="summary"', 1)[1][:200]
    assert re.search(r'<g class="tile" data-code="193"[^>]*><title>[^<]*: 18</title>', html)
    assert html.count('<g class="tile outside"') == 24  # the other 12, wide and narrow
    assert 'data-chart="districts-ranked"' not in html
    assert ">18<" in re.search(r'data-kpi="CASES".*?</li>', html, re.S).group(0)


def test_kpis_change_against_the_previous_half_year(app, manager, spread, calls):
    client = app.test_client()
    login(client, manager)
    html = client.get("/dashboard/" + Q).get_data(as_text=True)

    def tile(code):
        return re.sub(r"\s+", " ", re.search(rf'data-kpi="{code}".*?</li>', html, re.S).group(0))

    assert ">240<" in tile("CALLS_OFFERED") and "+33.3 %" in tile("CALLS_OFFERED")
    assert "Before: 180" in tile("CALLS_OFFERED") and "better" not in tile("CALLS_OFFERED")
    assert "+1.7 percentage points" in tile("ANSWER_RATE") and "(better)" in tile("ANSWER_RATE")
    assert "−0.9 s" in tile("AVG_SPEED_OF_ANSWER_S") and "(better)" in tile(
        "AVG_SPEED_OF_ANSWER_S"
    )
    # A month against the month before: the same length.
    html = client.get("/dashboard/?period=2026-01&lang=en").get_data(as_text=True)
    assert "Change against December 2025." in html
    assert "+33.3 %" in re.search(r'data-kpi="CALLS_OFFERED".*?</li>', html, re.S).group(0)


def test_every_tab_is_its_own_page(app, manager, spread):
    client = app.test_client()
    login(client, manager)
    expect = {
        "indicators": "Progress against the plan&#39;s targets",
        "hotline": "Hotline service metrics",
        "place": "Cases by commune (since 1 July 2025)",
        "type": "Cases by violence type",
        "people": "Cases by survivor sex",
        "handling": "Cases by outcome",
        "pushes": "Nothing has been pushed yet.",
    }
    overview = client.get("/dashboard/" + Q).get_data(as_text=True)
    for tab, words in expect.items():
        assert f'data-tab="{tab}"' in overview
        r = client.get(f"/dashboard/{Q}&tab={tab}")
        assert r.status_code == 200
        html = r.get_data(as_text=True)
        assert words in html, tab
        assert f'data-tab="{tab}" aria-current="page"' in html
        assert 'class="kpi"' not in html
    hotline = client.get(f"/dashboard/{Q}&tab=hotline").get_data(as_text=True)
    assert 'svg class="chart lines wide"' in hotline  # month by month


def test_custom_ranges_are_whole_months(app, manager, spread):
    client = app.test_client()
    login(client, manager)
    r = client.get("/dashboard/?range=months&from=2026-01&to=2026-03&lang=en")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'type="month" id="from" name="from"' in html and 'value="2026-01"' in html
    assert 'type="date"' not in html
    assert "01/2026 to 03/2026" in html
    assert "Change against 10/2025 to 12/2025." in html
    r = client.get("/dashboard/?range=months&from=2026-01&lang=en")
    assert r.status_code == 422 and "Give both months" in r.get_data(as_text=True)
    r = client.get("/dashboard/?range=months&from=2026-04&to=2026-01&lang=en")
    assert r.status_code == 422 and "before the start date" in r.get_data(as_text=True)
    # The form's choice wins over a leftover field.
    r = client.get("/dashboard/?range=period&period=2026-03&from=2026-01&to=2026-02&lang=en")
    assert r.status_code == 200 and "March 2026" in r.get_data(as_text=True)


def test_a_refusal_from_the_periods_module_shows_its_reason(app, manager, monkeypatch):
    import hotline.dashboard as dashboard

    def refuse(start, last):
        raise PeriodError("partial", "custom ranges must be whole months")

    monkeypatch.setattr(dashboard, "custom", refuse)
    client = app.test_client()
    login(client, manager)
    r = client.get("/dashboard/?start=2026-01-10&end=2026-02-10&lang=en")
    assert r.status_code == 422
    assert "custom ranges must be whole months" in r.get_data(as_text=True)


def test_printable_report_follows_the_province_layout(app, manager, spread):
    client = app.test_client()
    login(client, manager)
    r = client.get("/dashboard/print" + Q)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    heads = [unescape(h) for h in re.findall(r"<h2>([^<]+)</h2>", html)]
    assert heads == [
        "I. Results against the Plan's indicators (Objective 3)",
        "II. The hotline's service",
        "III. Cases by place",
        "IV. Cases by type of violence",
        "V. Cases by survivor sex",
        "VI. Cases by survivor age",
        "VII. Other breakdowns",
    ]
    assert "First half of 2026" in html and html.count('data-indicator="') == 3
    assert "dashboard.css" in html and "<style" not in html
    refresh()
    vi = client.get("/dashboard/print?period=2026-S1&lang=vi").get_data(as_text=True)
    assert '<html lang="vi">' in vi
