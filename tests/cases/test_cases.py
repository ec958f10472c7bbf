"""Creating a case: validation, routing, referral, alert and outbox work in one transaction."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from hotline.cases.intake import create_case, parse_case_body
from hotline.errors import ValidationError
from hotline.privacy import number_hash
from models import Alert, Case, OutboxItem, Referral, db
from tests.factories import CANARY_NOTE, CANARY_PHONE
from tests.factories import case_body as body


def test_case_is_routed_referred_alerted_and_queued_together(directory):
    case, decision = create_case(parse_case_body(body()), actor="test")
    db.session.commit()
    assert re.fullmatch(r"QN\d{4}-[0-9A-HJKMNP-TV-Z]{5}", case.reference)
    referral = db.session.scalars(db.select(Referral)).one()
    assert referral.service_point.code == decision.primary.code
    assert referral.status == "pending" and referral.urgency == "high"
    alert = db.session.scalars(db.select(Alert)).one()
    assert alert.to_phone == referral.service_point.alert_phone
    outbox = db.session.scalars(db.select(OutboxItem)).one()
    assert outbox.payload == {"alert_id": alert.id}
    assert outbox.queue == "alerts"
    assert case.routing["chain"][0] == decision.primary.code
    assert case.routing["reason"]["vi"] and case.routing["reason"]["en"]
    assert case.coded("violence_type") == ["physical_assault"]
    assert case.safe_phone == "+84900777111"


def test_personal_fields_are_encrypted_at_rest(directory):
    create_case(parse_case_body(body()), actor="test")
    db.session.commit()
    raw = db.session.execute(text("SELECT notes, safe_phone FROM hotline_case")).one()
    assert CANARY_NOTE not in raw.notes and "900777111" not in raw.safe_phone
    assert db.session.scalars(db.select(Case)).one().notes == CANARY_NOTE


def test_without_referral_consent_nothing_is_sent(directory):
    consent = {"referral": False, "follow_up": False, "reporting": True}
    case, decision = create_case(parse_case_body(body(consent=consent)), actor="test")
    db.session.commit()
    assert decision.primary is not None
    assert db.session.query(Referral).count() == 0
    assert db.session.query(OutboxItem).count() == 0
    assert case.status == "open"


def test_immediate_danger_also_alerts_the_police(directory):
    case, _ = create_case(parse_case_body(body(risk="immediate")), actor="test")
    db.session.commit()
    kinds = sorted(r.service_point.kind for r in case.referrals)
    assert "police" in kinds
    assert "call_113" in case.routing["instructions"]
    assert db.session.query(OutboxItem).count() == len(case.referrals) == 2


def test_area_as_free_text_is_resolved(directory):
    case, _ = create_case(
        parse_case_body(body(area={"text": "em o phuong Cao Xanh tp ha long"})), actor="test"
    )
    assert case.commune_code == "06658"


@pytest.mark.parametrize(
    ("area", "expected"),
    [
        ({"text": "Bac Son"}, "Bắc Sơn"),
        ({"text": "toi o hai phong"}, "Quảng Ninh"),
        ({"commune_code": "99999"}, "99999"),
    ],
)
def test_unusable_area_is_a_field_error_and_nothing_is_stored(directory, area, expected):
    with pytest.raises(ValidationError) as exc:
        create_case(parse_case_body(body(area=area)), actor="test")
    assert expected in " ".join(exc.value.errors["area"])
    db.session.rollback()
    assert db.session.query(Case).count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"risk": None}, "risk"),
        ({"area": {"commune_code": "06862", "text": "x"}}, "area"),
        ({"area": "Tiên Yên"}, "area"),
        ({"survivor": {"sex": "other"}}, "sex"),
        ({"survivor": {"age_band": "40"}}, "age_band"),
        ({"violence_types": ["slap"]}, "violence_types"),
        ({"violence_types": "rape"}, "violence_types"),
        ({"contexts": ["war"]}, "contexts"),
        ({"needs": ["yoga"]}, "needs"),
        ({"consent": {"referral": "yes"}}, "consent.referral"),
        (
            {"safe_contact": {"channel": "sms", "phone": "12", "hours": "09:00-11:00"}},
            "safe_contact.phone",
        ),
        (
            {"safe_contact": {"channel": "call", "phone": CANARY_PHONE, "hours": "9-11"}},
            "safe_contact.hours",
        ),
        ({"safe_contact": {"channel": "none"}}, "safe_contact.channel"),
        ({"notes": 42}, "notes"),
        ({"perpetrator": {"sex": "x"}}, "perpetrator.sex"),
    ],
)
def test_each_bad_field_is_named(ctx, overrides, field):
    with pytest.raises(ValidationError) as exc:
        parse_case_body(body(**overrides))
    assert field in exc.value.errors


def test_body_that_is_not_an_object_is_refused(ctx):
    with pytest.raises(ValidationError):
        parse_case_body(["not", "an", "object"])


def test_number_hash_is_stable_keyed_and_never_the_number(ctx):
    first = number_hash("+84900777111")
    assert first == number_hash("+84900777111")
    assert first != number_hash("+84900777112")
    assert "900777111" not in first
    raw = db.session.execute(text("SELECT value FROM app_secret")).scalar_one()
    assert len(raw) > 64, "the key is stored encrypted"


def test_first_acknowledgement_wins_and_stops_escalation(directory):
    from hotline.referrals.actions import acknowledge, record_outcome

    case, _ = create_case(parse_case_body(body()), actor="test")
    db.session.commit()
    referral = case.referrals[0]
    assert acknowledge(referral, via="sms") is True
    assert acknowledge(referral, via="link") is False
    db.session.commit()
    assert referral.acknowledged_via == "sms"
    assert db.session.scalars(db.select(Alert.escalate_at)).one() is None
    record_outcome(referral, None, ["counselling", "psychosocial"])
    db.session.commit()
    assert (referral.status, referral.services_received) == (
        "closed",
        ["counselling", "psychosocial"],
    )
