"""Fixtures for the screens and the API: contacts as the telephony webhooks store them, and
each test phase's report kept on the item. The demo directory and users, signed-in clients
and cases are shared fixtures (``tests/conftest.py``)."""

from __future__ import annotations

import itertools
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
