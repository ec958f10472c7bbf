"""Each person's own account page: password, language, sessions (DESIGN.md section 15)."""

from __future__ import annotations

import re

from models import AuditEvent, User, UserSession, db
from tests.webclient import PASSWORDS, ROLE_USERS, post_form, sign_in

OPERATOR = ROLE_USERS["operator"]
NEW_PASSWORD = "một mật khẩu mới dài"


def test_account_page_has_the_password_inputs_for_every_role(signed_in):
    for role in ("operator", "social_worker", "manager", "admin"):
        page = signed_in(role).get("/account")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert re.search(r'<input[^>]+name="current_password"', html)
        assert re.search(r'<input[^>]+name="new_password"', html)


def test_password_change_ends_the_other_session_at_once(app, signed_in):
    phone, desk = signed_in("operator"), signed_in("operator")
    assert phone.get("/operator/").status_code == 200
    response = post_form(
        desk,
        "/account/password",
        {"current_password": PASSWORDS[OPERATOR], "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert desk.get("/operator/").status_code == 200  # the one that changed it stays
    gone = phone.get("/operator/")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    assert sign_in(app.test_client(), OPERATOR, NEW_PASSWORD).status_code == 302
    assert sign_in(app.test_client(), OPERATOR).status_code == 401


def test_a_wrong_current_password_short_or_common_new_one_is_refused(app, signed_in):
    client = signed_in("operator")
    cases = [
        ("not-my-password", NEW_PASSWORD, "current_password"),
        (PASSWORDS[OPERATOR], "short-pw", "new_password"),
        (PASSWORDS[OPERATOR], "password1234", "new_password"),
        (PASSWORDS[OPERATOR], "1234567890123", "new_password"),
    ]
    for current, new, field in cases:
        response = post_form(
            client, "/account/password", {"current_password": current, "new_password": new}
        )
        assert response.status_code == 422
        assert f'id="{field}"' in response.get_data(as_text=True)
    assert sign_in(app.test_client(), OPERATOR).status_code == 302


def test_admin_reset_ends_every_session_of_the_user(app, signed_in):
    operator = signed_in("operator")
    with app.app_context():
        user_id = db.session.scalar(db.select(User.id).where(User.username == OPERATOR))
    admin = signed_in("admin")
    response = post_form(admin, f"/admin/users/{user_id}/password", {"password": NEW_PASSWORD})
    assert response.status_code == 302
    assert operator.get("/operator/").status_code == 302
    assert admin.get("/admin/users").status_code == 200
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(db.func.count()).where(
                    UserSession.user_id == user_id, UserSession.ended_at.is_(None)
                )
            )
            == 0
        )


def test_list_and_end_own_sessions(app, signed_in):
    other = signed_in("operator")
    client = app.test_client()
    client.get("/login")
    post_form(
        client,
        "/login",
        {"username": OPERATOR, "password": PASSWORDS[OPERATOR]},
        headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14) Firefox/130.0"},
    )
    page = client.get("/account?lang=en").get_data(as_text=True)
    assert "Firefox / Android" in page and "this device" in page
    ends = re.findall(r'action="(/account/sessions/[^/"]+/end)"', page)
    assert len(ends) == 1
    assert post_form(client, ends[0]).status_code == 302
    assert other.get("/operator/").status_code == 302
    assert client.get("/operator/").status_code == 200


def test_sign_out_ends_the_server_side_session(app, signed_in):
    client = signed_in("operator")
    with client.session_transaction() as session:
        cookie = dict(session)
    post_form(client, "/logout")
    replay = app.test_client()
    with replay.session_transaction() as session:
        session.update(cookie)  # an old copy of the cookie no longer works
    assert replay.get("/operator/").status_code == 302


def test_language_preference_is_used_when_no_lang_is_given(app, signed_in):
    client = signed_in("operator")
    assert '<html lang="vi">' in client.get("/account").get_data(as_text=True)
    assert post_form(client, "/account/language", {"language": "en"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(User.language).where(User.username == OPERATOR)) == "en"
    fresh = app.test_client()
    sign_in(fresh, OPERATOR)
    assert '<html lang="en">' in fresh.get("/operator/").get_data(as_text=True)
    assert '<html lang="vi">' in fresh.get("/operator/?lang=vi").get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(db.func.count()).where(AuditEvent.action == "user.language")
            )
            == 1
        )
