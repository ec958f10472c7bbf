"""The JSON API, exactly as DESIGN.md section 7 describes it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from models import AuditEvent, Case, OutboxItem, Referral, db
from tests.factories import CANARY_NOTE, case_body
from tests.webclient import ROLE_USERS


@pytest.fixture
def api(app):
    return app.test_client()


def test_creating_a_case_returns_the_reference_and_the_routing(api, token_for, app):
    response = api.post("/api/v1/cases", json=case_body(), headers=token_for("operator"))
    assert response.status_code == 201
    data = response.get_json()
    assert data["reference"].startswith("QN")
    point = data["routing"]["service_point"]
    assert set(point) == {"code", "name", "phone"}
    assert point["code"] == "DEMO-DCTC-06862"
    assert isinstance(data["routing"]["reason"], str) and data["routing"]["reason"]
    assert isinstance(data["routing"]["alternates"], list) and data["routing"]["alternates"]
    assert all(set(p) == {"code", "name", "phone"} for p in data["routing"]["alternates"])
    with app.app_context():
        case = db.session.scalar(db.select(Case))
        assert case.reference == data["reference"]
        assert db.session.query(Referral).count() == 1
        assert db.session.query(OutboxItem).count() == 1


def test_reason_follows_the_language(api, token_for):
    headers = token_for("operator")
    vi = api.post("/api/v1/cases", json=case_body(), headers=headers).get_json()
    en = api.post("/api/v1/cases?lang=en", json=case_body(), headers=headers).get_json()
    assert vi["routing"]["reason"] != en["routing"]["reason"]
    assert "Routed to" in en["routing"]["reason"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"risk": None}, "risk"),
        ({"area": {"commune_code": "99999"}}, "area"),
        ({"area": {"text": "toi o hai phong"}}, "area"),
        ({"survivor": {"sex": "other"}}, "sex"),
        ({"violence_types": ["slap"]}, "violence_types"),
        ({"consent": {"referral": "yes"}}, "consent.referral"),
        (
            {"safe_contact": {"channel": "sms", "phone": "12", "hours": "09:00-11:00"}},
            "safe_contact.phone",
        ),
        ({"notes": "x" * 10_001}, "notes"),
        ({"contact_sid": "SM-does-not-exist"}, "contact_sid"),
        ({"notes": "nul\x00byte"}, "notes"),
        ({"area": {"text": "Ti\x00en Yen"}}, "area.text"),
    ],
)
def test_a_bad_body_is_422_with_the_field_named_and_nothing_stored(
    api, token_for, app, body, field
):
    response = api.post("/api/v1/cases", json=case_body(**body), headers=token_for("operator"))
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert field in errors and all(isinstance(m, str) and m for m in errors[field])
    with app.app_context():
        assert db.session.query(Case).count() == 0
        assert db.session.query(OutboxItem).count() == 0


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[1, 2]", b'"text"', b"{", b"null"],
)
def test_a_body_that_is_not_a_json_object_is_422(api, token_for, raw):
    headers = token_for("operator") | {"Content-Type": "application/json"}
    response = api.post("/api/v1/cases", data=raw, headers=headers)
    assert response.status_code == 422
    assert "body" in response.get_json()["errors"]


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer hl_wrong", "Basic dXNlcjpwYXNz", "hl_no_scheme"]
)
def test_missing_or_bad_token_is_401_json(api, demo, header):
    headers = {"Authorization": header} if header else {}
    response = api.get("/api/v1/referrals", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["status"] == 401


def test_a_revoked_user_token_stops_working(api, token_for, app):
    headers = token_for("social_worker")
    assert api.get("/api/v1/referrals", headers=headers).status_code == 200
    with app.app_context():
        db.session.execute(text("UPDATE user_account SET active = false"))
        db.session.commit()
    assert api.get("/api/v1/referrals", headers=headers).status_code == 401


def test_operator_sees_the_whole_case_and_the_view_is_audited(api, token_for, make_case, app):
    reference = make_case()
    data = api.get(f"/api/v1/cases/{reference}", headers=token_for("operator")).get_json()
    assert data["intake_notes"] == CANARY_NOTE and data["notes"] == []
    assert data["safe_contact"]["phone"] == "+84900777111"
    assert data["violence_types"] == ["physical_assault"]
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "case.view"))
        assert event.object_id == reference and event.actor_label == ROLE_USERS["operator"]
        assert event.details == {"via": "api"}


def test_social_worker_sees_only_the_minimum_of_a_case_referred_to_them(api, token_for, make_case):
    reference = make_case()
    response = api.get(f"/api/v1/cases/{reference}", headers=token_for("social_worker"))
    data = response.get_json()
    assert response.status_code == 200
    assert data["reference"] == reference and data["risk"] == "high"
    assert data["needs"] == ["counselling"] and data["routing"]["reason"]
    assert data["area"]["label"] == "Xã Tiên Yên"
    body = response.get_data(as_text=True)
    assert "canary-note" not in body and "900777111" not in body
    assert "notes" not in data and "phone" not in data["safe_contact"]
    assert "violence_types" not in data


def test_case_out_of_scope_is_404_like_a_missing_one(api, token_for, make_case):
    reference = make_case()
    for role in ("sw-dam-ha", "manager", "admin"):
        out_of_scope = api.get(f"/api/v1/cases/{reference}", headers=token_for(role))
        missing = api.get("/api/v1/cases/QN0000-NONE0", headers=token_for(role))
        assert out_of_scope.status_code == missing.status_code == 404
        assert out_of_scope.get_json() == missing.get_json()


def test_referrals_list_has_the_contract_fields_for_own_points_only(api, token_for, make_case):
    reference = make_case()
    make_case(area={"commune_code": "06895"})  # Đầm Hà: someone else's
    items = api.get("/api/v1/referrals", headers=token_for("social_worker")).get_json()["items"]
    assert len(items) == 1
    item = items[0]
    assert set(item) == {
        "id",
        "case_reference",
        "service_point",
        "status",
        "urgency",
        "created_at",
        "acknowledged_at",
    }
    assert item["case_reference"] == reference and item["status"] == "pending"
    assert item["urgency"] == "high" and item["acknowledged_at"] is None
    assert item["service_point"]["code"] == "DEMO-DCTC-06862"


def test_acknowledging_twice_is_harmless_and_first_one_wins(api, token_for, make_case, app):
    make_case()
    headers = token_for("social_worker")
    referral_id = api.get("/api/v1/referrals", headers=headers).get_json()["items"][0]["id"]
    first = api.post(f"/api/v1/referrals/{referral_id}/acknowledge", headers=headers)
    again = api.post(f"/api/v1/referrals/{referral_id}/acknowledge", headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.get_json()["first"] is True and again.get_json()["first"] is False
    assert first.get_json()["acknowledged_at"] == again.get_json()["acknowledged_at"]
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        assert referral.acknowledged_via == "api"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"services_received": ["yoga"]}, "services_received"),
        ({"services_received": "counselling"}, "services_received"),
        ({}, "services_received"),
        ({"services_received": [], "notes": 5}, "notes"),
        ([], "body"),
    ],
)
def test_bad_outcome_is_422_and_changes_nothing(api, token_for, make_case, app, body, field):
    make_case()
    headers = token_for("social_worker")
    referral_id = api.get("/api/v1/referrals", headers=headers).get_json()["items"][0]["id"]
    response = api.post(f"/api/v1/referrals/{referral_id}/outcome", json=body, headers=headers)
    assert response.status_code == 422 and field in response.get_json()["errors"]
    with app.app_context():
        assert db.session.get(Referral, referral_id).outcome_at is None


def test_outcome_closes_the_referral(api, token_for, make_case, app):
    make_case()
    headers = token_for("social_worker")
    referral_id = api.get("/api/v1/referrals", headers=headers).get_json()["items"][0]["id"]
    response = api.post(
        f"/api/v1/referrals/{referral_id}/outcome",
        json={"services_received": ["counselling", "legal"], "notes": "met on Monday"},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "closed"
    assert response.get_json()["services_received"] == ["counselling", "legal"]


def test_another_communes_social_worker_cannot_act_on_the_referral(api, token_for, make_case):
    make_case()
    own = token_for("social_worker")
    referral_id = api.get("/api/v1/referrals", headers=own).get_json()["items"][0]["id"]
    other = token_for("sw-dam-ha")
    assert (
        api.post(f"/api/v1/referrals/{referral_id}/acknowledge", headers=other).status_code == 404
    )
    assert (
        api.post(
            f"/api/v1/referrals/{referral_id}/outcome",
            json={"services_received": []},
            headers=other,
        ).status_code
        == 404
    )
    assert api.post("/api/v1/referrals/99999999999/acknowledge", headers=own).status_code == 404


def test_openapi_document_lists_the_contract_operations(api):
    doc = api.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {
        "/api/v1/cases",
        "/api/v1/cases/{reference}",
        "/api/v1/cases/{reference}/messages",
        "/api/v1/cases/{reference}/notes",
        "/api/v1/cases/{reference}/referrals",
        "/api/v1/calls/{call_sid}/transfer",
        "/api/v1/me/availability",
        "/api/v1/referrals",
        "/api/v1/referrals/{referral_id}/acknowledge",
        "/api/v1/referrals/{referral_id}/accept",
        "/api/v1/referrals/{referral_id}/decline",
        "/api/v1/referrals/{referral_id}/outcome",
        "/api/v1/service-points/{code}/occupancy",
        "/api/v1/stats",
        "/api/v1/tasks",
        "/api/v1/tasks/{task_id}/done",
        "/api/v1/tasks/{task_id}/recording",
    }
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    channel = doc["components"]["schemas"]["CaseBody"]["properties"]["channel"]
    assert channel["enum"] == ["voice", "sms", "walk_in", "other"]


def test_token_from_the_cli_works(runner, api, demo):
    result = runner.invoke(args=["users", "token", ROLE_USERS["operator"]])
    token = result.output.split()[-1]
    response = api.post(
        "/api/v1/cases", json=case_body(), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201
