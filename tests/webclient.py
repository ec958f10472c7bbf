"""Signing in like a browser: the demo logins, CSRF tokens and forms. The fixtures that use
them (``demo``, ``signed_in``, ``token_for``, ``make_case``) are in ``tests/conftest.py``."""

from __future__ import annotations

import itertools

from itsdangerous import URLSafeTimedSerializer

from hotline.dev.demo import DEMO_LOGINS
from models import Case, db

PASSWORDS = {login.username: login.password for login in DEMO_LOGINS}
ROLE_USERS = {login.role: login.username for login in DEMO_LOGINS}
#: A social worker of another commune (Xã Đầm Hà's trusted address).
OTHER_SW = "sw-dam-ha"
OTHER_SW_PASSWORD = "other-social-worker-pw"
OTHER_POINT = "DEMO-DCTC-06895"
_sid = itertools.count(1)


def password_for(username: str) -> str:
    return OTHER_SW_PASSWORD if username == OTHER_SW else PASSWORDS[username]


def csrf_of(client) -> str:
    """The session's CSRF token as a form carries it (creating the session with one if
    needed): Flask-WTF keeps the raw token in the session and the pages show it signed."""
    with client.session_transaction() as session:
        if "csrf_token" not in session:
            session["csrf_token"] = "test-csrf-token-" + str(next(_sid))
        raw = session["csrf_token"]
    return URLSafeTimedSerializer(client.application.secret_key, salt="wtf-csrf-token").dumps(raw)


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


def case_by_reference(reference: str) -> Case:
    return db.session.scalar(db.select(Case).where(Case.reference == reference))
