"""Administration: directory, import/export, users, duty, and the append-only audit log."""

from __future__ import annotations

import io

import pytest

from models import AuditEvent, ServicePoint, User, db
from tests.factories import directory_csv, directory_row
from tests.webclient import ROLE_USERS, post_form


def test_directory_search_finds_points(signed_in):
    page = signed_in("admin").get("/admin/?q=06862").get_data(as_text=True)
    assert "DEMO-DCTC-06862" in page and "DEMO-DCTC-06895" not in page


def test_editing_a_point_validates_like_the_csv(signed_in, app):
    client = signed_in("admin")
    form = {
        "name": "Điểm mới",
        "kind": "trusted_address",
        "commune_code": "06862",
        "phone": "0900 100 001",
        "alert_phone": "not-a-phone",
        "services": ["counselling"],
        "hours": "24/7",
        "active": "yes",
    }
    refused = post_form(client, "/admin/points/DEMO-DCTC-06862", form)
    assert refused.status_code == 422
    assert 'id="err-alert_phone"' in refused.get_data(as_text=True)
    saved = post_form(
        client, "/admin/points/DEMO-DCTC-06862", form | {"alert_phone": "0900100501"}
    )
    assert saved.status_code == 302
    with app.app_context():
        point = db.session.scalar(
            db.select(ServicePoint).where(ServicePoint.code == "DEMO-DCTC-06862")
        )
        assert point.name == "Điểm mới" and point.alert_phone == "+84900100501"


def test_creating_a_point_with_a_taken_code_is_refused(signed_in):
    response = post_form(
        signed_in("admin"),
        "/admin/points/new",
        {"code": "DEMO-TT-TINH", "name": "x", "kind": "police", "hours": "24/7"},
    )
    assert response.status_code == 422


def test_import_shows_every_bad_row_and_stores_nothing(signed_in, app):
    data = directory_csv(
        [directory_row(1), directory_row(2, kind="spa"), directory_row(3, phone="12")]
    )
    response = post_form(
        signed_in("admin"),
        "/admin/directory/import",
        {"file": (io.BytesIO(data), "directory.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    rows = page.split('id="row-errors"')[1]
    assert "<td>3</td>" in rows and "<td>4</td>" in rows and "kind" in rows
    with app.app_context():
        assert (
            db.session.scalar(db.select(ServicePoint).where(ServicePoint.code == "QN-DCTC-001"))
            is None
        )


def test_import_of_a_good_file_reports_counts(signed_in, app):
    data = directory_csv([directory_row(1), directory_row(2)])
    response = post_form(
        signed_in("admin"),
        "/admin/directory/import",
        {"file": (io.BytesIO(data), "directory.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    with app.app_context():
        assert db.session.query(ServicePoint).filter(ServicePoint.code.like("QN-%")).count() == 2


def test_export_downloads_the_csv_and_is_audited(signed_in, app):
    response = signed_in("admin").get("/admin/directory/export.csv")
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True).startswith("code,name,kind,commune_code")
    with app.app_context():
        assert db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.action == "directory.export")
        )


def test_admin_creates_a_user_and_sees_field_errors(signed_in, app):
    client = signed_in("admin")
    bad = post_form(client, "/admin/users", {"username": "a b", "password": "short", "role": "x"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'id="err-username"' in page and 'id="err-password"' in page and 'id="err-role"' in page
    good = post_form(
        client,
        "/admin/users",
        {"username": "new-op", "password": "a-long-password", "role": "operator"},
    )
    assert good.status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(db.select(User).where(User.username == "new-op")).role == "operator"
        )


def test_on_duty_switch_needs_a_phone(signed_in, app):
    client = signed_in("admin")
    with app.app_context():
        user_id = db.session.scalar(
            db.select(User.id).where(User.username == ROLE_USERS["operator"])
        )
        db.session.execute(
            db.update(User).where(User.id == user_id).values(phone=None, on_duty=False)
        )
        db.session.commit()
    post_form(client, f"/admin/users/{user_id}/duty", {"on_duty": "yes"})
    with app.app_context():
        assert db.session.get(User, user_id).on_duty is False
    post_form(client, f"/admin/users/{user_id}/duty", {"on_duty": "yes", "phone": "0900 123 456"})
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.on_duty is True and user.phone == "+84900123456"


def test_audit_log_is_visible_to_admins_and_append_only(signed_in, make_case, app):
    reference = make_case()
    signed_in("operator").get(f"/cases/{reference}")
    page = signed_in("admin").get(f"/admin/audit?q={reference}").get_data(as_text=True)
    assert "case.view" in page and "canary-note" not in page
    with app.app_context():
        event = db.session.scalars(db.select(AuditEvent)).first()
        event.action = "tampered"
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalars(db.select(AuditEvent)).first())
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.flush()
        db.session.rollback()
