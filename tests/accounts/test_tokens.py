"""API tokens expire and can be revoked (DESIGN.md section 15)."""

from __future__ import annotations

from datetime import timedelta

from models import ApiToken, AuditEvent, User, db
from models.types import utcnow
from tests.webclient import ROLE_USERS, post_form

USER = ROLE_USERS["social_worker"]


def _token(runner, *args: str) -> str:
    result = runner.invoke(args=["users", "token", USER, *args])
    assert result.exit_code == 0, result.output
    return result.output.split()[-1]


def _call(client, token: str) -> int:
    return client.get(
        "/api/v1/referrals", headers={"Authorization": f"Bearer {token}"}
    ).status_code


def test_a_token_lasts_90_days_by_default_and_the_given_days_otherwise(app, demo, runner):
    with app.app_context():
        default = _token(runner)
        short = _token(runner, "--expires-days", "7")
        rows = db.session.scalars(db.select(ApiToken).order_by(ApiToken.id)).all()
        days = [round((t.expires_at - t.created_at) / timedelta(days=1)) for t in rows]
    assert days == [90, 7]
    client = app.test_client()
    assert _call(client, default) == 200 and _call(client, short) == 200


def test_expired_token_is_401(app, demo, runner):
    client = app.test_client()
    with app.app_context():
        token = _token(runner, "--expires-days", "1")
    assert _call(client, token) == 200
    with app.app_context():
        db.session.execute(db.update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert _call(client, token) == 401


def test_revoke_token_command_revokes_every_token_of_the_user(app, demo, runner):
    client = app.test_client()
    with app.app_context():
        first, second = _token(runner), _token(runner)
    assert _call(client, first) == 200 and _call(client, second) == 200
    with app.app_context():
        result = runner.invoke(args=["users", "revoke-token", USER])
        assert result.exit_code == 0, result.output
        assert db.session.scalar(
            db.select(AuditEvent.details).where(AuditEvent.action == "token.revoke")
        ) == {"tokens": 2}
    assert _call(client, first) == 401 and _call(client, second) == 401


def test_token_with_zero_days_is_refused(app, demo, runner):
    with app.app_context():
        result = runner.invoke(args=["users", "token", USER, "--expires-days", "0"])
    assert result.exit_code != 0


def test_admin_sees_tokens_and_revokes_them(app, demo, runner, signed_in):
    client = app.test_client()
    with app.app_context():
        token = _token(runner)
        user_id = db.session.scalar(db.select(User.id).where(User.username == USER))
    assert _call(client, token) == 200  # records the last use
    admin = signed_in("admin")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "API tokens (1)" in admin.get("/admin/users?lang=en").get_data(as_text=True)
    assert f"/admin/users/{user_id}/tokens/revoke" in page
    assert post_form(admin, f"/admin/users/{user_id}/tokens/revoke").status_code == 302
    assert _call(client, token) == 401


def test_deactivating_a_user_revokes_tokens_and_ends_sessions(app, demo, runner, signed_in):
    client = app.test_client()
    with app.app_context():
        token = _token(runner)
        user_id = db.session.scalar(db.select(User.id).where(User.username == USER))
    worker = signed_in("social_worker")
    assert worker.get("/inbox/").status_code == 200
    admin = signed_in("admin")
    assert post_form(admin, f"/admin/users/{user_id}/active", {"active": "no"}).status_code == 302
    assert _call(client, token) == 401
    assert worker.get("/inbox/").status_code == 302
    # Reactivated, the old token stays revoked.
    assert post_form(admin, f"/admin/users/{user_id}/active", {"active": "yes"}).status_code == 302
    assert _call(client, token) == 401
