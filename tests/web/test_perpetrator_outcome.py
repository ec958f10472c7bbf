"""Perpetrator outcome (prosecuted / counselled) recorded with a referral's outcome, through
the API and the inbox, and counted by the PERPETRATOR_COUNSELLING indicator."""

from __future__ import annotations

import pytest

from hotline.stats.periods import local_day, month
from hotline.stats.report import build_report
from hotline.stats.rollup import timezone_name
from models import AuditEvent, Case, Referral, db
from tests.webclient import case_by_reference, post_form


def _referral_id(app, reference: str) -> int:
    with app.app_context():
        return case_by_reference(reference).referrals[0].id


def _perpetrator(app, reference: str) -> tuple[bool | None, bool | None]:
    with app.app_context():
        case = case_by_reference(reference)
        return case.perpetrator_prosecuted, case.perpetrator_counselled


def test_api_stores_the_perpetrator_outcome_on_the_case(app, token_for, make_case):
    reference = make_case()
    response = app.test_client().post(
        f"/api/v1/referrals/{_referral_id(app, reference)}/outcome",
        json={
            "services_received": ["counselling"],
            "perpetrator": {"prosecuted": False, "counselled": True},
        },
        headers=token_for("social_worker"),
    )
    assert response.status_code == 200, response.get_json()
    assert _perpetrator(app, reference) == (False, True)
    with app.app_context():
        event = db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.action == "case.perpetrator_outcome")
        )
        # Which fields changed, never their values.
        assert event.object_id == reference
        assert event.details == {"fields": ["prosecuted", "counselled"]}


def test_api_keeps_a_perpetrator_field_that_is_left_out(app, token_for, make_case):
    reference = make_case()
    with app.app_context():
        case_by_reference(reference).perpetrator_prosecuted = True
        db.session.commit()
    response = app.test_client().post(
        f"/api/v1/referrals/{_referral_id(app, reference)}/outcome",
        json={"services_received": [], "perpetrator": {"counselled": False}},
        headers=token_for("social_worker"),
    )
    assert response.status_code == 200
    assert _perpetrator(app, reference) == (True, False)


@pytest.mark.parametrize(
    ("perpetrator", "field"),
    [
        ({"prosecuted": "no"}, "perpetrator.prosecuted"),
        ({"prosecuted": False, "counselled": 1}, "perpetrator.counselled"),
        ({"counselled": None}, "perpetrator.counselled"),
        (["counselled"], "perpetrator"),
        ("yes", "perpetrator"),
    ],
)
def test_api_bad_perpetrator_outcome_is_422_and_stores_nothing(
    app, token_for, make_case, perpetrator, field
):
    reference = make_case()
    referral_id = _referral_id(app, reference)
    response = app.test_client().post(
        f"/api/v1/referrals/{referral_id}/outcome",
        json={"services_received": ["counselling"], "perpetrator": perpetrator},
        headers=token_for("social_worker"),
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [field]
    assert _perpetrator(app, reference) == (None, None)
    with app.app_context():
        assert db.session.get(Referral, referral_id).outcome_at is None


def test_api_unknown_service_stores_no_perpetrator_outcome(app, token_for, make_case):
    reference = make_case()
    response = app.test_client().post(
        f"/api/v1/referrals/{_referral_id(app, reference)}/outcome",
        json={"services_received": ["yoga"], "perpetrator": {"counselled": True}},
        headers=token_for("social_worker"),
    )
    assert response.status_code == 422
    assert _perpetrator(app, reference) == (None, None)


def test_openapi_documents_the_perpetrator_outcome(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    body = doc["paths"]["/api/v1/referrals/{referral_id}/outcome"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]["properties"]["perpetrator"]
    assert schema["type"] == "object"
    assert schema["properties"] == {
        "prosecuted": {"type": "boolean"},
        "counselled": {"type": "boolean"},
    }


def test_inbox_form_offers_and_stores_the_perpetrator_outcome(app, signed_in, make_case):
    reference = make_case()
    referral_id = _referral_id(app, reference)
    client = signed_in("social_worker")
    post_form(client, f"/inbox/referrals/{referral_id}/acknowledge")
    page = client.get("/inbox/").get_data(as_text=True)
    assert 'name="perpetrator_prosecuted" value="unknown" checked' in page
    assert 'name="perpetrator_counselled" value="yes"' in page
    response = post_form(
        client,
        f"/inbox/referrals/{referral_id}/outcome",
        {
            "services_received": "counselling",
            "perpetrator_prosecuted": "no",
            "perpetrator_counselled": "yes",
        },
    )
    assert response.status_code == 302
    assert _perpetrator(app, reference) == (False, True)


def test_inbox_form_unknown_clears_and_a_bad_choice_stores_nothing(app, signed_in, make_case):
    reference = make_case()
    referral_id = _referral_id(app, reference)
    with app.app_context():
        case = case_by_reference(reference)
        case.perpetrator_prosecuted, case.perpetrator_counselled = True, True
        db.session.commit()
    client = signed_in("social_worker")
    bad = post_form(
        client,
        f"/inbox/referrals/{referral_id}/outcome",
        {"services_received": "counselling", "perpetrator_counselled": "maybe"},
    )
    assert bad.status_code == 302
    assert _perpetrator(app, reference) == (True, True)
    with app.app_context():
        assert db.session.get(Referral, referral_id).outcome_at is None
    post_form(
        client,
        f"/inbox/referrals/{referral_id}/outcome",
        {"services_received": "counselling", "perpetrator_counselled": "unknown"},
    )
    assert _perpetrator(app, reference) == (True, None)


def _counselling_counts(app, reference: str) -> tuple[int, int]:
    """(met, denominator) of PERPETRATOR_COUNSELLING in the case's month, unsuppressed."""
    with app.app_context():
        case = db.session.scalar(db.select(Case).where(Case.reference == reference))
        day = local_day(case.created_at, timezone_name())
        counts = build_report(month(day.year, day.month)).counts
    met = sum(n for (t, _d, k), n in counts.items() if t == "ind_perpetrator" and k == "met")
    den = sum(n for (t, _d, _k), n in counts.items() if t == "ind_perpetrator")
    return met, den


def test_recorded_counselling_reaches_the_indicator(app, token_for, make_case):
    # A consented GBV case (physical assault, husband identified, reporting consent).
    reference = make_case()
    assert _counselling_counts(app, reference) == (0, 1)
    response = app.test_client().post(
        f"/api/v1/referrals/{_referral_id(app, reference)}/outcome",
        json={
            "services_received": ["counselling"],
            "perpetrator": {"counselled": True, "prosecuted": False},
        },
        headers=token_for("social_worker"),
    )
    assert response.status_code == 200
    assert _counselling_counts(app, reference) == (1, 1)
