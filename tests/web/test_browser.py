"""End to end in real headless Chromium (Debian's ``chromium``, driven by Playwright):
an operator takes an SMS from the live board into the intake and saves it, the service
point's social worker acknowledges it, and another commune's social worker cannot open it.

A screenshot of every open page is saved in ``test-artifacts/`` when a test fails.
"""

from __future__ import annotations

import re

from tests.web.browser import BROWSER_TESTS, sign_in
from tests.webclient import OTHER_SW, OTHER_SW_PASSWORD, PASSWORDS, ROLE_USERS

pytestmark = BROWSER_TESTS


def test_sms_from_the_board_to_acknowledgement_in_a_real_browser(live_server, pages, make_contact):
    operator = pages()
    sign_in(operator, live_server, ROLE_USERS["operator"], PASSWORDS[ROLE_USERS["operator"]])
    operator.wait_for_url(f"{live_server}/operator/")
    assert operator.locator("html").get_attribute("lang") == "vi"

    # The SMS arrives while the board is open: it appears without a reload.
    make_contact("sms", number="+84900555123", body="Tôi ở Tiên Yên, chồng tôi đánh tôi")
    row = operator.locator("#board-live li", has_text="••• 123")
    row.wait_for()
    assert "Tôi ở Tiên Yên" in row.inner_text()

    row.get_by_role("link", name="Mở phiếu tiếp nhận").click()
    operator.wait_for_url(re.compile(r".*/intake/new\?contact=\d+"))
    operator.check("input[name=safe_now][value=yes]")
    operator.fill("#commune-search", "tien yen")
    assert operator.locator("#commune_code").input_value() == "06862"
    operator.check("input[name=survivor_sex][value=female]")
    operator.check("input[name=violence_types][value=physical_assault]")
    operator.check("input[name=risk][value=high]")
    operator.check("input[name=needs][value=counselling]")
    operator.check("input[name=consent_referral]")
    operator.check("input[name=consent_reporting]")
    # The routing and its reason show before saving (live preview, no reload).
    operator.locator("#routing-preview", has_text="Địa chỉ tin cậy xã Tiên Yên").wait_for()
    assert "Lý do:" in operator.locator("#routing-preview").inner_text()

    operator.get_by_role("button", name="Lưu vụ việc").click()
    operator.wait_for_url(re.compile(r".*/cases/QN\d{4}-[0-9A-Z]{5}$"))
    reference = operator.url.rsplit("/", 1)[-1]
    assert "Địa chỉ tin cậy xã Tiên Yên" in operator.locator("#main").inner_text()

    worker = pages(width=360)  # a phone
    sign_in(
        worker, live_server, ROLE_USERS["social_worker"], PASSWORDS[ROLE_USERS["social_worker"]]
    )
    worker.wait_for_url(f"{live_server}/inbox/")
    item = worker.locator("li", has_text=reference)
    item.get_by_role("button", name="Xác nhận đã nhận").click()
    worker.locator(".flash", has_text=f"Đã xác nhận {reference}").wait_for()
    assert worker.evaluate("document.documentElement.scrollWidth") <= 360

    other = pages()
    sign_in(other, live_server, OTHER_SW, OTHER_SW_PASSWORD)
    other.wait_for_url(f"{live_server}/inbox/")
    assert reference not in other.content()
    response = other.goto(f"{live_server}/cases/{reference}")
    assert response.status == 404
    assert reference not in other.content()

    assert not [m for m in pages.console_problems if "Content Security Policy" in m]


def test_signed_out_board_says_so_instead_of_going_stale(live_server, pages, app):
    app.config["SESSION_IDLE_MINUTES"] = 0
    try:
        page = pages()
        sign_in(page, live_server, ROLE_USERS["operator"], PASSWORDS[ROLE_USERS["operator"]])
        page.wait_for_url(f"{live_server}/operator/")
        page.locator("#session-expired").wait_for(state="visible", timeout=20_000)
    finally:
        app.config["SESSION_IDLE_MINUTES"] = 30
