"""Administration of existing users: role, service points and a new password."""

from __future__ import annotations

from hotline.accounts.users import MIN_PASSWORD_LENGTH, check_password
from models import AuditEvent, User, db
from tests.webclient import OTHER_POINT, ROLE_USERS, post_form, sign_in


def _user(username: str) -> User:
    return db.session.scalar(db.select(User).where(User.username == username))


def _id(app, username: str) -> int:
    with app.app_context():
        return _user(username).id


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action)))


def test_users_page_offers_role_and_password_forms(signed_in, app):
    page = signed_in("admin").get("/admin/users").get_data(as_text=True)
    user_id = _id(app, ROLE_USERS["operator"])
    assert f'action="/admin/users/{user_id}/role"' in page
    assert f'action="/admin/users/{user_id}/password"' in page
    assert f'minlength="{MIN_PASSWORD_LENGTH}"' in page


def test_admin_changes_a_role_and_service_points_audited(signed_in, app):
    client = signed_in("admin")
    user_id = _id(app, ROLE_USERS["operator"])
    response = post_form(
        client,
        f"/admin/users/{user_id}/role",
        {"role": "social_worker", "service_points": f" {OTHER_POINT} ,"},
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.role == "social_worker"
        assert [p.code for p in user.service_points] == [OTHER_POINT]
    (event,) = _events(app, "user.role")
    assert event.actor_label == ROLE_USERS["admin"] and event.object_id == str(user_id)
    assert event.details == {
        "role": "social_worker",
        "service_points": [OTHER_POINT],
        "previous_role": "operator",
    }


def test_a_social_worker_needs_a_known_service_point(signed_in, app):
    client = signed_in("admin")
    user_id = _id(app, ROLE_USERS["operator"])
    for points in ("", "NO-SUCH-POINT"):
        response = post_form(
            client,
            f"/admin/users/{user_id}/role",
            {"role": "social_worker", "service_points": points},
        )
        assert response.status_code == 302
    post_form(client, f"/admin/users/{user_id}/role", {"role": "wizard"})
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.role == "operator" and user.service_points == []
    assert _events(app, "user.role") == []
    page = client.get("/admin/users").get_data(as_text=True)
    assert "NO-SUCH-POINT" in page  # the refusal is shown


def test_an_admin_cannot_remove_their_own_admin_role(signed_in, app):
    client = signed_in("admin")
    admin_id = _id(app, ROLE_USERS["admin"])
    response = post_form(client, f"/admin/users/{admin_id}/role", {"role": "manager"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, admin_id).role == "admin"
    assert _events(app, "user.role") == []
    assert client.get("/admin/users").status_code == 200


def test_admin_sets_a_new_password_audited_without_the_password(signed_in, app):
    client = signed_in("admin")
    username = ROLE_USERS["manager"]
    user_id = _id(app, username)
    short = "x" * (MIN_PASSWORD_LENGTH - 1)
    post_form(client, f"/admin/users/{user_id}/password", {"password": short})
    assert _events(app, "user.password") == []
    new = "a brand new password"
    response = post_form(client, f"/admin/users/{user_id}/password", {"password": new})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.password_hash.startswith("$argon2")
        assert check_password(user, new) and not check_password(user, short)
    (event,) = _events(app, "user.password")
    assert event.object_id == str(user_id) and not event.details
    assert sign_in(app.test_client(), username, new).status_code == 302


def test_user_changes_need_the_csrf_token(signed_in, app):
    client = signed_in("admin")
    user_id = _id(app, ROLE_USERS["operator"])
    for path, data in (("role", {"role": "manager"}), ("password", {"password": "x" * 20})):
        response = client.post(
            f"/admin/users/{user_id}/{path}", data=data | {"csrf_token": "forged"}
        )
        assert response.status_code == 400
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.role == "operator" and not check_password(user, "x" * 20)


def test_user_changes_are_post_only_and_admin_only(signed_in, app):
    user_id = _id(app, ROLE_USERS["operator"])
    admin = signed_in("admin")
    assert admin.get(f"/admin/users/{user_id}/role").status_code == 405
    assert admin.get(f"/admin/users/{user_id}/password").status_code == 405
    manager = signed_in("manager")
    response = post_form(manager, f"/admin/users/{user_id}/role", {"role": "admin"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(User, user_id).role == "operator"
