"""Signing in and out, sessions, lockout, rate limit, CSRF and the security headers."""

from __future__ import annotations

import re
import time

import pytest

from hotline import create_app
from hotline.accounts.users import LOCK_AFTER_FAILURES
from models import AuditEvent, User, db
from tests.webclient import ROLE_USERS, csrf_of, post_form, sign_in


def test_login_form_has_username_and_password_inputs_and_vietnamese_lang(client):
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'<input[^>]+name="username"', html)
    assert re.search(
        r'<input[^>]+name="password"[^>]*type="password"|type="password"[^>]*name="password"', html
    )
    assert '<html lang="vi">' in html
    assert '<html lang="en">' in client.get("/login?lang=en").get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "home"),
    [
        ("operator", "/operator/"),
        ("social_worker", "/inbox/"),
        ("manager", "/dashboard/"),
        ("admin", "/admin/"),
    ],
)
def test_each_role_lands_on_its_own_home_page(client, demo, role, home):
    response = sign_in(client, ROLE_USERS[role])
    assert response.status_code == 302
    assert response.headers["Location"] == home
    assert client.get(home).status_code == 200
    assert client.get("/login").headers["Location"] == home


def test_wrong_password_is_refused_with_a_clear_message_and_audited(client, app, demo):
    response = sign_in(client, ROLE_USERS["operator"], "not-the-password")
    assert response.status_code == 401
    assert "khóa" in response.get_data(as_text=True)  # says the lockout rule, in Vietnamese
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(db.func.count()).where(AuditEvent.action == "login.failed")
            )
            == 1
        )


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, demo):
    known = sign_in(client, ROLE_USERS["operator"], "not-the-password").get_data(as_text=True)
    unknown = sign_in(client, "nobody-here", "not-the-password").get_data(as_text=True)
    pick = re.compile(r'id="login-error">([^<]*)<')
    assert pick.search(known).group(1) == pick.search(unknown).group(1)


def test_account_locks_after_repeated_failures_even_against_the_right_password(client, app, demo):
    username = ROLE_USERS["operator"]
    for _ in range(LOCK_AFTER_FAILURES):
        assert sign_in(client, username, "wrong-password-x").status_code == 401
    assert sign_in(client, username).status_code == 401
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        assert user.locked_until is not None


def test_admin_can_unlock_a_locked_account(client, app, demo, signed_in):
    username = ROLE_USERS["operator"]
    for _ in range(LOCK_AFTER_FAILURES):
        sign_in(client, username, "wrong-password-x")
    with app.app_context():
        user_id = db.session.scalar(db.select(User.id).where(User.username == username))
    admin = signed_in("admin")
    assert post_form(admin, f"/admin/users/{user_id}/unlock").status_code == 302
    assert sign_in(app.test_client(), username).status_code == 302


def test_too_many_attempts_from_one_address_are_refused(demo):
    app = create_app({"LOGIN_RATE_LIMIT": 3})
    client = app.test_client()
    codes = [sign_in(client, "nobody", "whatever-password").status_code for _ in range(5)]
    assert codes[:3] == [401, 401, 401]
    assert codes[3:] == [429, 429]


def test_rate_limit_fails_open_when_redis_is_down_but_the_lockout_still_holds(demo, unused_port):
    app = create_app({"REDIS_URL": f"redis://127.0.0.1:{unused_port}/0", "LOGIN_RATE_LIMIT": 1})
    client = app.test_client()
    username = ROLE_USERS["operator"]
    assert sign_in(client, username).status_code == 302
    other = app.test_client()
    for _ in range(LOCK_AFTER_FAILURES):
        assert sign_in(other, username, "wrong-password-x").status_code == 401
    assert sign_in(other, username).status_code == 401


def test_logout_needs_the_csrf_token_and_ends_the_session(signed_in):
    client = signed_in("operator")
    assert client.post("/logout").status_code == 400
    assert client.get("/operator/").status_code == 200
    assert post_form(client, "/logout").status_code == 302
    assert client.get("/operator/").status_code == 302


def test_a_form_without_the_csrf_token_changes_nothing(signed_in, make_case, app):
    reference = make_case()
    client = signed_in("operator")
    response = client.post(f"/cases/{reference}/legal-hold", data={"hold": "yes"})
    assert response.status_code == 400
    response = client.post(
        f"/cases/{reference}/legal-hold", data={"hold": "yes", "csrf_token": "forged"}
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(db.text("SELECT legal_hold FROM hotline_case")) in (0, False)


def test_login_itself_needs_the_csrf_token(client, demo):
    response = client.post(
        "/login", data={"username": ROLE_USERS["operator"], "password": "x" * 12}
    )
    assert response.status_code == 400


def test_session_ends_after_inactivity(app, demo):
    client = app.test_client()
    sign_in(client, ROLE_USERS["operator"])
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - app.config["SESSION_IDLE_MINUTES"] * 60 - 5
    response = client.get("/operator/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "không hoạt động" in page  # "signed out after inactivity", in Vietnamese


def test_board_polling_does_not_keep_the_session_alive(app, demo):
    client = app.test_client()
    sign_in(client, ROLE_USERS["operator"])
    long_ago = int(time.time()) - 60
    with client.session_transaction() as session:
        session["seen"] = long_ago
    assert client.get("/operator/board/live").status_code == 200
    with client.session_transaction() as session:
        assert session["seen"] == long_ago
    with client.session_transaction() as session:
        session["seen"] = 0
    assert (
        client.get("/operator/board/live", headers={"X-Requested-With": "fetch"}).status_code
        == 401
    )


def test_deactivated_user_is_signed_out_at_the_next_request(app, signed_in):
    client = signed_in("operator")
    with app.app_context():
        db.session.execute(
            db.update(User).where(User.username == ROLE_USERS["operator"]).values(active=False)
        )
        db.session.commit()
    assert client.get("/operator/").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_login_never_redirects_off_site(client, demo, target):
    client.get("/login")
    response = client.post(
        "/login?next=" + target,
        data={
            "username": ROLE_USERS["operator"],
            "password": "demo-operator-18001769",
            "csrf_token": csrf_of(client),
        },
    )
    assert response.headers["Location"] == "/operator/"


def test_pages_carry_strict_security_headers_and_cookie_flags(client, demo):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_signed_in_pages_are_not_cached(signed_in):
    response = signed_in("operator").get("/operator/")
    assert response.headers["Cache-Control"] == "no-store"


def test_no_page_has_inline_scripts_or_styles(signed_in, make_case):
    reference = make_case()
    client = signed_in("operator")
    for path in ("/login", "/operator/", "/intake/new", f"/cases/{reference}"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and "style=" not in html and "onclick" not in html, path


def test_production_session_cookie_is_secure():
    from config import load_config

    env = {
        "HOTLINE_ENV": "production",
        "DATABASE_URL": "postgresql://x@127.0.0.1/x",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SECRET_KEY": "k" * 40,
        "FIELD_ENCRYPTION_KEYS": "4b9mgs3B0TRk0fmh3fY2mQ0xRgRqV7AfdTrTNBYwL2g=",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "t",
    }
    assert load_config(env)["SESSION_COOKIE_SECURE"] is True
