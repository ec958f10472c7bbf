"""``demo load``: sample data covering the whole province, marked as sample."""

from __future__ import annotations

from flask import Flask

from hotline import create_app
from models import NewCommune, ServicePoint, User, db
from routing.codes import ROLES
from routing.hours import parse_hours


def test_demo_covers_every_2025_commune_with_a_trusted_address(runner, ctx):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    communes = set(db.session.scalars(db.select(NewCommune.code)))
    covered = set(
        db.session.scalars(
            db.select(ServicePoint.commune_code).where(ServicePoint.kind == "trusted_address")
        )
    )
    assert covered == communes


def test_demo_has_a_provincial_centre_open_around_the_clock_and_shelters(runner, ctx):
    runner.invoke(args=["demo", "load"])
    centre = db.session.scalars(
        db.select(ServicePoint).where(ServicePoint.kind == "social_work_center")
    ).one()
    assert (centre.commune_code, centre.district_code) == (None, None)
    assert parse_hours(centre.hours).is_always_open
    assert "shelter" in centre.service_list
    shelters = db.session.scalars(
        db.select(ServicePoint).where(ServicePoint.kind == "shelter")
    ).all()
    assert shelters
    assert all(s.capacity and s.capacity > 0 for s in shelters)


def test_demo_data_is_marked_as_sample_everywhere(runner, ctx):
    runner.invoke(args=["demo", "load"])
    points = db.session.scalars(db.select(ServicePoint)).all()
    assert points and all(p.is_sample and p.name.startswith("[DEMO]") for p in points)
    assert all(p.phone in ("113", "+8418001769") or p.phone.startswith("+84900") for p in points)
    assert all(p.alert_phone.startswith("+84900") for p in points)


def test_demo_has_one_user_per_role_and_they_can_log_in(runner, ctx):
    from hotline.accounts.users import check_password
    from hotline.dev.demo import DEMO_LOGINS

    runner.invoke(args=["demo", "load"])
    users = {u.username: u for u in db.session.scalars(db.select(User))}
    assert sorted(u.role for u in users.values()) == sorted(ROLES)
    for login in DEMO_LOGINS:
        assert check_password(users[login.username], login.password)
    worker = users["demo-social-worker"]
    assert [p.commune_code for p in worker.service_points] == ["06862"]


def test_demo_load_twice_changes_nothing(runner, ctx):
    runner.invoke(args=["demo", "load"])
    counts = (db.session.query(ServicePoint).count(), db.session.query(User).count())
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert (db.session.query(ServicePoint).count(), db.session.query(User).count()) == counts


def test_demo_is_never_loaded_in_production(app: Flask):
    prod = create_app({"HOTLINE_ENV": "production"})
    result = prod.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0
    assert "production" in result.output
    with app.app_context():
        assert db.session.query(ServicePoint).count() == 0
