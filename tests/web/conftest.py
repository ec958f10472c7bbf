"""Fixtures for the screens and the API: the demo directory and users, signed-in clients,
contacts as the telephony webhooks store them, and cases made through the service."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from hotline.accounts.users import create_user, issue_token
from hotline.cases.intake import create_case, parse_case_body
from hotline.dev.demo import DEMO_LOGINS, load_demo
from hotline.privacy import number_hash
from models import Case, Contact, Message, ServicePoint, User, db
from tests.factories import case_body

PASSWORDS = {login.username: login.password for login in DEMO_LOGINS}
ROLE_USERS = {login.role: login.username for login in DEMO_LOGINS}
#: A social worker of another commune (Xã Đầm Hà's trusted address).
OTHER_SW = "sw-dam-ha"
OTHER_SW_PASSWORD = "other-social-worker-pw"
OTHER_POINT = "DEMO-DCTC-06895"
_sid = itertools.count(1)


@pytest.fixture
def demo(app):
    """The demo directory and one user per role, plus a social worker of another commune."""
    with app.app_context():
        load_demo()
        # Trusted addresses keep office hours; open them all day so routing does not depend
        # on when the suite runs (the routing tests cover opening hours).
        db.session.execute(
            db.update(ServicePoint)
            .where(ServicePoint.kind == "trusted_address")
            .values(hours="24/7")
        )
        create_user(
            OTHER_SW, OTHER_SW_PASSWORD, "social_worker", service_point_codes=[OTHER_POINT]
        )
        db.session.commit()
    return app


def password_for(username: str) -> str:
    return OTHER_SW_PASSWORD if username == OTHER_SW else PASSWORDS[username]


def csrf_of(client) -> str:
    """The session's CSRF token (creating the session with one if needed)."""
    with client.session_transaction() as session:
        if "csrf" not in session:
            session["csrf"] = "test-csrf-token-" + str(next(_sid))
        return session["csrf"]


def post_form(client, url: str, data: dict | None = None, **kw):
    """POST a form the way the browser does: with the session's CSRF token."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_of(client))
    return client.post(url, data=data, **kw)


def sign_in(client, username: str, password: str | None = None):
    client.get("/login")
    return post_form(
        client, "/login", {"username": username, "password": password or password_for(username)}
    )


@pytest.fixture
def signed_in(app, demo) -> Callable:
    """``signed_in("operator")`` → a test client signed in as that role's demo user."""

    def make(role_or_username: str):
        client = app.test_client()
        username = ROLE_USERS.get(role_or_username, role_or_username)
        response = sign_in(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return make


@pytest.fixture
def token_for(app, demo) -> Callable:
    def make(role_or_username: str) -> dict[str, str]:
        username = ROLE_USERS.get(role_or_username, role_or_username)
        with app.app_context():
            user = db.session.scalar(db.select(User).where(User.username == username))
            token = issue_token(user)
            db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def make_case(app, demo) -> Callable:
    """A case created through the service as the demo operator; returns its reference."""

    def make(**overrides) -> str:
        with app.app_context():
            operator = db.session.scalar(
                db.select(User).where(User.username == ROLE_USERS["operator"])
            )
            case, _ = create_case(parse_case_body(case_body(**overrides)), actor=operator)
            db.session.commit()
            return case.reference

    return make


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


def case_by_reference(reference: str) -> Case:
    return db.session.scalar(db.select(Case).where(Case.reference == reference))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can see a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
