"""The managers' dashboard: access, tables and charts, exports, and a real browser."""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

import pytest
from flask_babel import refresh
from openpyxl import load_workbook
from werkzeug.serving import make_server

from hotline.accounts.users import create_user
from models import User, db
from tests.factories import MARCH

PASSWORD = "a long enough password for stats"
QUERY = "?period=2026-S1&lang=en"


def _login(client, user: User) -> None:
    from tests.dashboard.conftest import login  # a standing server-side session row

    login(client, user)


@pytest.fixture
def manager(ctx):
    # A sample account: no second factor outside production (tests/web covers 2FA).
    user = create_user("stats-dash-manager", PASSWORD, "manager", is_sample=True)
    db.session.commit()
    return user


@pytest.fixture
def data(report_case):
    for i in range(12):
        report_case(at=MARCH, survivor={"sex": "female" if i < 7 else "male", "age_band": "26-40"})


def test_only_managers_see_the_dashboard(app, ctx, manager):
    client = app.test_client()
    assert client.get("/dashboard/").status_code == 302  # to the login page
    operator = create_user("stats-dash-operator", PASSWORD, "operator")
    db.session.commit()
    _login(client, operator)
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/dashboard/export.csv").status_code == 403


def test_dashboard_shows_tables_beside_charts(app, manager, data):
    client = app.test_client()
    _login(client, manager)
    r = client.get("/dashboard/" + QUERY)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert html.count('<svg class="chart') >= 8  # the overview: trends, map, rankings
    tabs = "".join(
        client.get(f"/dashboard/{QUERY}&tab={t}").get_data(as_text=True)
        for t in ("indicators", "hotline", "place", "type", "people", "handling")
    )
    assert tabs.count('<svg class="chart') >= 10
    assert "Progress against the plan&#39;s targets" in tabs
    assert '<td class="num">12</td>' in tabs
    assert "http://" not in html.split("<main", 1)[1].replace("http://www.w3.org/2000/svg", "")
    # The test's application context is shared by its requests; Flask-Babel caches the
    # locale on it, so drop the English one before asking for Vietnamese.
    refresh()
    vi = client.get("/dashboard/?period=2026-S1&lang=vi").get_data(as_text=True)
    # The page itself is Vietnamese (the language switcher always holds a ``lang="vi"`` link).
    assert '<html lang="vi">' in vi and "<h1>Thống kê</h1>" in vi
    assert '<html lang="en">' in html and "<h1>Thống kê</h1>" not in html


def test_bad_filters_are_field_errors(app, manager):
    client = app.test_client()
    _login(client, manager)
    r = client.get("/dashboard/?period=2026-S9&district=999&lang=en")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'data-field="period"' in html and 'data-field="district"' in html
    r = client.get("/dashboard/?start=2026-03-10&end=2026-03-01&lang=en")
    assert r.status_code == 422


def test_csv_and_xlsx_are_exactly_what_is_shown(app, manager, data):
    client = app.test_client()
    _login(client, manager)
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/dashboard/export.csv" + QUERY).get_data(as_text=True).lstrip("\ufeff")
            )
        )
    )
    titles = {r[1] for r in rows if len(r) == 2 and r[0]}
    assert "Cases by survivor sex" in titles
    at = next(i for i, r in enumerate(rows) if r[1:2] == ["Cases by survivor sex"])
    sex = rows[at + 2 : at + 6]
    assert sex == [["Female", "7"], ["Male", "5"], ["Not known", "0"], ["Total", "12"]]
    wb = load_workbook(io.BytesIO(client.get("/dashboard/export.xlsx" + QUERY).data))
    assert len(wb.sheetnames) == 7  # About + six groups
    values = [c for row in wb.worksheets[5].iter_rows(values_only=True) for c in row]
    assert "Cases by survivor sex" in values and 7 in values


def test_half_year_report_has_one_sheet_per_indicator_group(app, manager, data):
    client = app.test_client()
    _login(client, manager)
    r = client.get("/dashboard/report.xlsx" + QUERY)
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames[0] == "About"
    assert wb.sheetnames[1:] == [
        "Plan indicators",
        "Hotline service",
        "Cases by place",
        "Cases by type of violence",
        "Survivors and perpetrators",
        "Channel, risk and outcome",
    ]
    months = [row[0] for row in wb["Hotline service"].iter_rows(values_only=True)]
    assert "2026-01" in months and "2026-06" in months


def test_cli_writes_the_report_workbook(runner, data, tmp_path):
    out = tmp_path / "s1.xlsx"
    result = runner.invoke(args=["report", "xlsx", "--period", "2026-S1", str(out)])
    assert result.exit_code == 0, result.output
    assert len(load_workbook(out).sheetnames) == 7


# --- a real browser -----------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_dashboard_renders_with_its_charts_in_headless_chromium(app, manager, data):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    requests: list[str] = []
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            page = browser.new_page()
            page.on("request", lambda req: requests.append(req.url))
            errors: list[str] = []
            page.on(
                "console",
                lambda m: (
                    errors.append(m.text)
                    if m.type == "error" and "Failed to load resource" not in m.text
                    else None
                ),
            )
            page.on(
                "response",
                lambda r: (
                    errors.append(r.url)
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )
            page.goto(f"{base}/login?lang=en")
            page.fill("input[name=username]", manager.username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{base}/dashboard/?period=2026-S1&tab=people&lang=en")
            assert page.locator("h1").inner_text() == "Statistics"
            charts = page.locator("figure.chart-box svg.chart")
            assert charts.count() >= 3
            box = page.locator("[data-chart=sex] svg").bounding_box()
            assert box and box["width"] > 200 and box["height"] > 20
            # Female 7, Male 5, Not known 0: two bars (0 has none, the total is left out).
            assert page.locator("[data-chart=sex] rect.bar").count() == 2
            page.goto(f"{base}/dashboard/?period=2026-S1&tab=indicators&lang=en")
            assert page.locator("[data-indicator] svg.meter line.milestone").count() == 5
            page.select_option("#district", "198")
            page.click("#filters button[type=submit]")
            page.wait_for_url("**district=198**")
            assert "tab=indicators" in page.url
            assert page.locator("li.indicator").count() >= 3
            browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert all(u.startswith(base) for u in requests), "the page reached beyond the service"
    assert not errors
