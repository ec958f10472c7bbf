"""Two-factor enrolment and sign-in in real headless Chromium: the QR code is drawn by the
server (an inline SVG data URI the CSP allows), the key is shown as text, a code from the
app turns it on; the next sign-in asks for a code."""

from __future__ import annotations

import re
import time

import pyotp

from hotline.accounts.users import create_user
from models import db
from tests.web.browser import BROWSER_TESTS, shoot, sign_in

pytestmark = BROWSER_TESTS

PASSWORD = "a sturdy manager passphrase"


def test_a_manager_enrols_with_the_qr_page_and_signs_in_with_a_code(app, live_server, pages):
    with app.app_context():
        create_user("quan-ly-tinh", PASSWORD, "manager")
        db.session.commit()
    page = pages(width=420, height=900)
    sign_in(page, live_server, "quan-ly-tinh", PASSWORD)
    page.wait_for_url(f"{live_server}/account/two-factor")
    qr = page.locator("#totp-qr")
    assert qr.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert page.evaluate("document.getElementById('totp-qr').naturalWidth") > 0
    secret = page.locator("#totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    shoot(page, "account-2fa-enrol")

    page.goto(f"{live_server}/dashboard/")  # nothing else is served before enrolment
    page.wait_for_url(f"{live_server}/account/two-factor")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button[type=submit].primary")
    codes = page.locator("#recovery-codes li")
    codes.first.wait_for()
    assert codes.count() == 10
    shoot(page, "account-2fa-recovery-codes")

    page.goto(f"{live_server}/account")
    assert page.locator("#sessions li").count() == 1
    shoot(page, "account-page")
    page.get_by_role("button", name=re.compile("Đăng xuất")).click()
    page.wait_for_url(re.compile(r".*/login"))

    sign_in(page, live_server, "quan-ly-tinh", PASSWORD)
    page.locator("input[name=code]").wait_for()
    shoot(page, "account-2fa-code")
    page.fill("input[name=code]", pyotp.TOTP(secret).at(time.time() + 30))
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server}/dashboard/")
    assert not pages.console_problems, pages.console_problems
