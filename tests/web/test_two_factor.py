"""Two-factor sign-in with TOTP and recovery codes (DESIGN.md section 15)."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from hotline.accounts.users import create_user
from models import AuditEvent, TwoFactor, User, db
from tests.webclient import ROLE_USERS, post_form, sign_in

PASSWORD = "a sturdy manager passphrase"


def _code(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


@pytest.fixture
def manager(app, demo) -> str:
    with app.app_context():
        create_user("quan-ly", PASSWORD, "manager")
        db.session.commit()
    return "quan-ly"


def _enrol(client) -> tuple[str, list[str]]:
    """Go through the enrolment page; returns the secret and the recovery codes."""
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    assert re.search(r'<img id="totp-qr" src="data:image/svg\+xml;base64,', page)
    done = post_form(client, "/account/two-factor", {"code": _code(secret)})
    assert done.status_code == 200
    codes = re.findall(
        r"<li><code>([0-9a-f]{8}-[0-9a-f]{8})</code></li>", done.get_data(as_text=True)
    )
    assert len(codes) == 10
    return secret, codes


def test_a_manager_must_enrol_at_first_sign_in_before_any_other_page(app, client, manager):
    assert sign_in(client, manager, PASSWORD).status_code == 302
    for path in ("/dashboard/", "/account", "/cases/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == "/account/two-factor"
    secret, _ = _enrol(client)
    assert client.get("/account").status_code == 200
    with app.app_context():
        row = db.session.scalar(db.select(TwoFactor))
        assert row.confirmed_at is not None and row.secret == secret
        stored = db.session.execute(db.text("SELECT secret FROM two_factor")).scalar()
        assert secret not in stored  # encrypted at rest
        assert (
            db.session.scalar(db.select(db.func.count()).where(AuditEvent.action == "2fa.enrol"))
            == 1
        )


def test_an_enrolled_user_is_asked_for_the_code_and_a_replayed_code_is_refused(
    app, client, manager
):
    sign_in(client, manager, PASSWORD)
    secret, _ = _enrol(client)
    post_form(client, "/logout")

    asked = sign_in(client, manager, PASSWORD)
    assert asked.status_code == 200
    assert re.search(r'<input[^>]+name="code"', asked.get_data(as_text=True))
    assert client.get("/account").status_code == 302  # no session before the code

    assert post_form(client, "/login/code", {"code": "000000"}).status_code == 401
    code = _code(secret, 1)
    ok = post_form(client, "/login/code", {"code": code})
    assert ok.status_code == 302 and ok.headers["Location"] == "/dashboard/"
    assert client.get("/account").status_code == 200

    other = app.test_client()
    assert sign_in(other, manager, PASSWORD).status_code == 200
    assert post_form(other, "/login/code", {"code": code}).status_code == 401  # replayed
    assert other.get("/account").status_code == 302


def test_a_recovery_code_works_once(app, client, manager):
    sign_in(client, manager, PASSWORD)
    _, codes = _enrol(client)
    post_form(client, "/logout")
    sign_in(client, manager, PASSWORD)
    assert post_form(client, "/login/code", {"code": codes[3].upper()}).status_code == 302
    post_form(client, "/logout")
    sign_in(client, manager, PASSWORD)
    assert post_form(client, "/login/code", {"code": codes[3]}).status_code == 401


def test_too_many_wrong_codes_send_the_user_back_to_the_password(app, client, manager):
    sign_in(client, manager, PASSWORD)
    _enrol(client)
    post_form(client, "/logout")
    sign_in(client, manager, PASSWORD)
    statuses = [post_form(client, "/login/code", {"code": "123456"}).status_code for _ in range(5)]
    assert statuses[-1] == 302
    assert post_form(client, "/login/code", {"code": "123456"}).headers["Location"] == "/login"


def test_an_admin_must_enrol_too_and_an_operator_need_not(app, demo):
    with app.app_context():
        create_user("quan-tri", PASSWORD, "admin")
        create_user("dieu-phoi", PASSWORD, "operator")
        db.session.commit()
    admin = app.test_client()
    sign_in(admin, "quan-tri", PASSWORD)
    assert admin.get("/admin/").headers["Location"] == "/account/two-factor"
    operator = app.test_client()
    sign_in(operator, "dieu-phoi", PASSWORD)
    assert operator.get("/operator/").status_code == 200


def test_an_operator_can_enrol_from_the_account_page(app, signed_in):
    client = signed_in("operator")
    page = client.get("/account?lang=en").get_data(as_text=True)
    assert 'href="/account/two-factor"' in page
    _enrol(client)
    assert "Unused recovery codes: 10" in client.get("/account?lang=en").get_data(as_text=True)


def test_admin_requires_two_factor_and_resets_it(app, demo, signed_in):
    username = ROLE_USERS["operator"]
    operator = signed_in("operator")
    with app.app_context():
        user_id = db.session.scalar(db.select(User.id).where(User.username == username))
    admin = signed_in("admin")
    form = f"/admin/users/{user_id}/two-factor"
    assert post_form(admin, form, {"action": "require"}).status_code == 302
    assert operator.get("/operator/").headers["Location"] == "/account/two-factor"
    _enrol(operator)
    assert operator.get("/operator/").status_code == 200
    assert post_form(admin, form, {"action": "reset"}).status_code == 302
    # A reset by an admin (a lost phone) also signs the user out everywhere ...
    assert operator.get("/operator/").headers["Location"].startswith("/login")
    # ... and, signing in again, they must enrol a new second factor.
    again = signed_in("operator")
    assert again.get("/operator/").headers["Location"] == "/account/two-factor"
    with app.app_context():
        actions = db.session.scalars(
            db.select(AuditEvent.action).where(AuditEvent.action.like("2fa.%"))
        ).all()
    assert "2fa.require" in actions and "2fa.reset" in actions
