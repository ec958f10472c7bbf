"""The overview in real headless Chromium at a desktop (1280 px) and a phone (390 px) width:
screenshots in ``test-artifacts/``, no console errors, nothing fetched from anywhere but
the service, SVG labels at least 12 px as drawn, no sideways scrolling on a phone, every tab
reachable by its link, the month range picker and the printable report."""

from __future__ import annotations

import pytest

from tests.web.browser import BROWSER_TESTS, serving, shoot
from tests.webclient import password_for

pytestmark = BROWSER_TESTS

TABS = ("overview", "indicators", "hotline", "place", "type", "people", "handling", "pushes")

#: The drawn size of every visible SVG text: its font size times the SVG's scale on screen.
SVG_TEXT_SIZES = """() => Array.from(document.querySelectorAll('svg.chart text'))
  .filter(t => t.getClientRects().length > 0)
  .map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"""
#: The smallest font size of visible HTML text in the page's main part.
HTML_TEXT_MIN = """() => Math.min(...Array.from(document.querySelectorAll('main *'))
  .filter(e => !(e instanceof SVGElement) && e.getClientRects().length > 0
    && Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim()))
  .map(e => parseFloat(getComputedStyle(e).fontSize)))"""
#: Which SVG texts are drawn under 12 px (for the failure message).
SMALL_SVG_TEXT = """() => Array.from(document.querySelectorAll('svg.chart text'))
  .filter(t => t.getClientRects().length > 0)
  .filter(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a < 11.95)
  .map(t => t.closest('svg').getAttribute('class') + ': ' + t.textContent)"""
NO_SIDEWAYS = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def served(app, manager, spread, calls):
    with serving(app) as base:
        yield base


def _open(pages, base, manager, width, height=900):
    page = pages(width, height)
    requests: list[str] = []
    failures: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    page.on(
        "response",
        lambda r: (
            failures.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(f"{base}/login?lang=en")
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", password_for(manager.username))
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page, requests, failures


@pytest.mark.parametrize("width", [1280, 390])
def test_overview_at_desktop_and_phone_width(pages, served, manager, width):
    page, requests, failures = _open(pages, served, manager, width)
    page.goto(f"{served}/dashboard/?period=2026-S1&lang=en")
    assert page.locator("h1").inner_text() == "Statistics"
    assert page.locator("li.kpi").count() == 8
    assert page.locator("li.indicator").count() == 3
    path = shoot(page, f"dashboard-overview-{width}")
    if width < 700:  # the long phone page in parts people can look at
        height = page.evaluate("document.documentElement.scrollHeight")
        for n, top in enumerate(range(0, height, 1400)):
            page.screenshot(
                path=str(path.with_name(f"dashboard-overview-{width}-part{n + 1}.png")),
                full_page=True,
                clip={"x": 0, "y": top, "width": width, "height": min(1400, height - top)},
            )
    # One drawing of each chart is shown: the wide one on a desktop, the narrow one on a phone.
    shown = page.locator("svg.chart.tilemap").evaluate_all(
        "els => els.filter(e => e.getClientRects().length)"
        ".map(e => e.classList.contains('narrow'))"
    )
    assert shown == [width < 700]
    sizes = page.evaluate(SVG_TEXT_SIZES)
    small = page.evaluate(SMALL_SVG_TEXT)
    assert sizes and min(sizes) >= 11.95, small[:5]
    assert page.evaluate(HTML_TEXT_MIN) >= 12
    assert page.evaluate(NO_SIDEWAYS), "the page scrolls sideways"
    # Uông Bí's three cases are hidden: "—" on its tile, never a number.
    tile = page.locator(
        f"svg.chart.tilemap.{'narrow' if width < 700 else 'wide'} g[data-code='196']"
    )
    assert "—" in tile.text_content()
    # Each chart's numbers are there as a table.
    page.locator("details.numbers summary").first.click()
    assert page.locator("details.numbers table").first.is_visible()
    assert all(u.startswith(served) for u in requests), "the page reached beyond the service"
    assert not failures
    assert not pages.console_problems


def test_every_tab_and_the_printable_report_are_reachable(pages, served, manager):
    page, requests, failures = _open(pages, served, manager, 390, 800)
    page.goto(f"{served}/dashboard/?period=2026-S1&lang=en")
    for tab in TABS[1:]:
        page.click(f"nav.tabs a[data-tab={tab}]")
        page.wait_for_url(f"**tab={tab}**")
        assert page.locator(f"nav.tabs a[data-tab={tab}]").get_attribute("aria-current") == "page"
        assert "period=2026-S1" in page.url
        assert page.evaluate(NO_SIDEWAYS), f"tab {tab} scrolls sideways"
        sizes = page.evaluate(SVG_TEXT_SIZES)
        assert not sizes or min(sizes) >= 11.95, (tab, min(sizes))
        if tab == "place":
            shoot(page, "dashboard-tab-place-390")
    page.click("nav.tabs a[data-tab=overview]")
    page.wait_for_selector("li.kpi")
    page.click("nav.tabs a[data-tab=print]")
    page.wait_for_url("**/dashboard/print**")
    assert page.locator("h2").count() == 7
    assert page.locator("#print-button").is_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert not page.locator(".print-actions").is_visible()
    shoot(page, "dashboard-print")
    assert all(u.startswith(served) for u in requests)
    assert not failures
    assert not pages.console_problems


def test_custom_range_is_picked_in_months(pages, served, manager):
    page, _requests, failures = _open(pages, served, manager, 1280)
    for tab in ("indicators", "hotline"):
        page.goto(f"{served}/dashboard/?period=2026-S1&tab={tab}&lang=en")
        shoot(page, f"dashboard-tab-{tab}-1280")
        assert page.evaluate(NO_SIDEWAYS)
    page.goto(f"{served}/dashboard/?period=2026-S1&tab=place&lang=en")
    page.fill("#from", "2026-01")
    page.fill("#to", "2026-03")
    assert page.locator("#range-months").is_checked()
    page.click("#filters button[type=submit]")
    page.wait_for_url("**from=2026-01**")
    assert "period=" not in page.url and "tab=place" in page.url
    assert "01/2026 to 03/2026" in page.locator(".summary").inner_text()
    page.select_option("#district", "193")
    page.select_option("#period", "2026-03")
    assert page.locator("#range-period").is_checked()
    page.click("#filters button[type=submit]")
    page.wait_for_url("**period=2026-03**")
    assert "from=" not in page.url and "district=193" in page.url
    assert "March 2026" in page.locator(".summary").inner_text()
    # The language switch keeps what is on screen.
    page.click(".lang a[hreflang=vi]")
    page.wait_for_url("**lang=vi**")
    assert "period=2026-03" in page.url and "tab=place" in page.url
    assert page.locator("h1").inner_text() == "Thống kê"
    assert not failures
    assert not pages.console_problems
