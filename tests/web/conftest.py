"""Fixtures for the screens and the API: contacts as the telephony webhooks store them, and
each test phase's report kept on the item. The demo directory and users, signed-in clients
and cases are shared fixtures (``tests/conftest.py``)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import pytest

from hotline.privacy import number_hash
from models import Contact, Message, db

_sid = itertools.count(1)


@pytest.fixture
def make_contact(app) -> Callable:
    """A call or SMS conversation as the telephony webhooks store it; returns its id."""

    def make(
        channel: str = "sms",
        number: str = "+84900555123",
        body: str | None = "Tôi ở Tiên Yên, chồng tôi đánh tôi",
        **fields,
    ) -> int:
        with app.app_context():
            n = next(_sid)
            contact = Contact(
                channel=channel,
                provider="twilio",
                provider_sid=f"CA{n:032d}" if channel == "voice" else None,
                caller_number=number,
                caller_hash=number_hash(number),
                status=fields.pop("status", "open" if channel == "sms" else "in-progress"),
                **fields,
            )
            db.session.add(contact)
            db.session.flush()
            if channel == "sms" and body is not None:
                db.session.add(
                    Message(
                        contact_id=contact.id,
                        direction="in",
                        provider="twilio",
                        provider_sid=f"SM{n:032d}",
                        body=body,
                    )
                )
            db.session.commit()
            return contact.id

    return make


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can see a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# --- real browser ---------------------------------------------------------------------------


@pytest.fixture
def live_server(app, demo):
    """The test app served over real HTTP on loopback."""
    from tests.web.browser import serving

    with serving(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    from tests.web.browser import ARGS, CHROMIUM

    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def pages(browser, request):
    """Open pages in separate contexts (one per person); screenshots on failure."""
    from tests.web.browser import ARTIFACTS

    contexts = []
    console_problems: list[str] = []

    def new_page(width: int = 1024, height: int = 800):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on(
            "console",
            lambda msg: console_problems.append(msg.text) if msg.type == "error" else None,
        )
        return page

    new_page.console_problems = console_problems
    yield new_page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for i, context in enumerate(contexts):
            for j, page in enumerate(context.pages):
                name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
                page.screenshot(path=str(ARTIFACTS / f"{name}-{i}-{j}.png"), full_page=True)
    for context in contexts:
        context.close()
