"""The operator workspace and the alert page in real headless Chromium: an operator finds a
case by phone number, adds a note, replies to the SMS thread, plays a voicemail (the fake
provider serves the audio over loopback, through the app) and closes a task; a trusted
address without an account acts on its referral from the alert page on a phone.
Screenshots at 1280 px and 390 px are kept in ``test-artifacts/``."""

from __future__ import annotations

import re

from sqlalchemy import select

from hotline.alerts.text import ack_token
from hotline.tasks import open_task
from models import Case, Contact, Message, Referral, ServicePoint, db
from models.types import utcnow
from tests.web.browser import BROWSER_TESTS, shoot, sign_in
from tests.webclient import PASSWORDS, ROLE_USERS

pytestmark = BROWSER_TESTS

SENDER = "+84900555321"
REPLY = "Chị ơi, em đã nhận tin. Chị gọi lại lúc nào an toàn nhé."
NOTE = "Gọi lại sau 17 giờ, chồng đi làm về lúc 18 giờ."


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_operator_works_a_case_and_a_voicemail_in_the_browser(
    live_server, pages, app, twilio, fake_twilio
):
    twilio.sms("Tôi ở Tiên Yên, chồng tôi đánh tôi", "SM" + "b" * 32, sender=SENDER)
    url = fake_twilio.add_recording("RE" + "b" * 32)
    with app.app_context():
        reference = db.session.scalar(select(Case.reference))
        voice = Contact(
            channel="voice",
            provider="twilio",
            provider_sid="CA" + "b" * 32,
            caller_number="+84900555987",
            recording_url=url,
            recording_seconds=1,
            status="voicemail",
            ended_at=utcnow(),
        )
        db.session.add(voice)
        db.session.flush()
        open_task("voicemail", f"contact:{voice.id}", contact_id=voice.id)
        db.session.commit()

    operator = pages(width=1280)
    sign_in(operator, live_server, ROLE_USERS["operator"], PASSWORDS[ROLE_USERS["operator"]])
    operator.wait_for_url(f"{live_server}/operator/")

    # Find the case by the number, written the way people write it.
    operator.goto(f"{live_server}/cases/")
    operator.fill("#q", "0900 555 321")
    operator.locator("form.case-search button[type=submit]").click()
    operator.get_by_role("link", name=reference).wait_for()
    shoot(operator, "workspace-case-list-1280")
    operator.get_by_role("link", name=reference).click()
    case_page = re.compile(rf".*/cases/{reference}(#[\w-]+)?$")
    operator.wait_for_url(case_page)

    # A note.
    operator.fill("#note-text", NOTE)
    operator.locator("#note-text").locator("xpath=ancestor::form").locator("button").click()
    operator.wait_for_url(case_page)
    operator.locator("#main", has_text=NOTE).wait_for()

    # A reply inside the 24 hours after the survivor's own message.
    operator.fill("#reply-text", REPLY)
    operator.locator("#reply-text").locator("xpath=ancestor::form").locator("button").click()
    operator.wait_for_url(case_page)
    operator.locator("#main", has_text=REPLY).wait_for()
    with app.app_context():
        sent = db.session.scalar(
            select(Message).where(Message.direction == "out", Message.sent_by_id.is_not(None))
        )
        assert sent.body == REPLY and sent.status == "pending"
    shoot(operator, "workspace-case-page-1280")

    # The voicemail plays in the page, fetched by the app from the provider.
    operator.goto(f"{live_server}/operator/")
    audio = operator.locator("#board-live audio").first
    audio.wait_for()
    src = audio.get_attribute("src")
    assert src.startswith("/operator/tasks/") and fake_twilio.url not in operator.content()
    played = operator.evaluate(
        """async () => {
            const audio = document.querySelector('#board-live audio');
            audio.muted = true;
            await audio.play();
            await new Promise(r => setTimeout(r, 300));
            return {time: audio.currentTime, duration: audio.duration, error: audio.error};
        }"""
    )
    assert played["error"] is None and played["duration"] > 0.5 and played["time"] > 0
    assert [r for r in fake_twilio.requests if "/Recordings/" in r.path]
    shoot(operator, "workspace-board-1280")

    # Close the voicemail task: it leaves the board.
    task = operator.locator("#board-live li", has=operator.locator("audio"))
    task.locator("input[name=outcome][value=reached]").check()
    task.locator("form.task-done button[type=submit]").click()
    operator.wait_for_url(f"{live_server}/operator/")
    operator.locator("#board-live").wait_for()
    assert operator.locator("#board-live audio").count() == 0

    # The same pages on a phone.
    phone = pages(width=390, height=844)
    sign_in(phone, live_server, ROLE_USERS["operator"], PASSWORDS[ROLE_USERS["operator"]])
    phone.wait_for_url(f"{live_server}/operator/")
    assert no_sideways_scroll(phone)
    shoot(phone, "workspace-board-390")
    phone.goto(f"{live_server}/cases/{reference}")
    phone.locator("#main", has_text=NOTE).wait_for()
    assert no_sideways_scroll(phone)
    shoot(phone, "workspace-case-page-390")
    phone.goto(f"{live_server}/cases/")
    phone.fill("#q", "84900555321")
    phone.locator("form.case-search button[type=submit]").click()
    phone.get_by_role("link", name=reference).wait_for()
    assert no_sideways_scroll(phone)
    shoot(phone, "workspace-case-list-390")

    assert pages.console_problems == []


def test_a_point_without_an_account_acts_from_the_alert_page_on_a_phone(
    live_server, pages, app, make_case
):
    reference = make_case(area={"commune_code": "06895"})
    with app.app_context():
        first = db.session.scalar(select(Referral).join(Case).where(Case.reference == reference))
        with app.test_request_context():
            declining = f"/a/{ack_token(first.id)}"

    phone = pages(width=390, height=844)
    phone.goto(live_server + declining)
    assert reference in phone.locator("h1").inner_text()
    assert no_sideways_scroll(phone)
    shoot(phone, "alert-page-390")
    phone.locator("details summary").click()
    phone.locator("input[name=reason][value=no_capacity]").check()
    phone.locator("form[action$='/decline'] button[type=submit]").click()
    phone.locator(".flash.ok").wait_for()
    shoot(phone, "alert-page-declined-390")

    with app.app_context():
        moved = db.session.scalars(
            select(Referral).join(Case).where(Case.reference == reference).order_by(Referral.id)
        ).all()
        assert [r.status for r in moved] == ["declined", "pending"]
        with app.test_request_context():
            accepting = f"/a/{ack_token(moved[1].id)}"

    phone.goto(live_server + accepting)
    phone.locator("form[action$='/acknowledge'] button").click()
    phone.locator(".flash.ok").wait_for()
    phone.locator("form[action$='/accept'] button").click()
    phone.locator("#h-outcome").wait_for()
    shoot(phone, "alert-page-accepted-390")
    phone.locator("input[name=outcome][value=service_received]").check()
    phone.locator("input[name=services_received][value=counselling]").check()
    phone.locator("form[action$='/outcome'] button[type=submit]").click()
    phone.locator(".flash.ok").wait_for()
    assert re.search(r"done=outcome", phone.url)
    assert no_sideways_scroll(phone)
    shoot(phone, "alert-page-outcome-390")
    with app.app_context():
        done = db.session.get(Referral, moved[1].id)
        assert (done.status, done.outcome, done.services_received) == (
            "closed",
            "service_received",
            ["counselling"],
        )

    # A shelter says how many beds are free, from the same page.
    shelter_case = make_case(needs=["shelter"], area={"district_code": "193"})
    with app.app_context():
        referral = db.session.scalar(
            select(Referral).join(Case).where(Case.reference == shelter_case)
        )
        assert referral.service_point.code == "DEMO-NTL-193"
        with app.test_request_context():
            beds = f"/a/{ack_token(referral.id)}"
    phone.goto(live_server + beds)
    phone.fill("#free-beds", "2")
    phone.locator("form[action$='/beds'] button").click()
    phone.locator(".flash.ok").wait_for()
    shoot(phone, "alert-page-beds-390")
    with app.app_context():
        shelter = db.session.scalar(
            select(ServicePoint).where(ServicePoint.code == "DEMO-NTL-193")
        )
        assert shelter.free_beds == 2

    desk = pages(width=1280)
    desk.goto(live_server + accepting)
    shoot(desk, "alert-page-1280")
    assert pages.console_problems == []
