"""Acknowledging a referral by SMS reply, signed link or the API: first one wins, the time
is stored, and escalation stops."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from hotline.alerts.acknowledge import (
    _ACK_RE,
    _plain,
    looks_like_acknowledgement,
    try_sms_acknowledgement,
)
from hotline.alerts.escalation import check_escalations
from hotline.alerts.text import ACK_SALT, ack_url
from hotline.referrals.actions import acknowledge
from models import Alert, Referral, ServicePoint, db
from models.types import utcnow
from tests.factories import ALERT_CASE, new_case


def primary(case) -> Referral:
    """The case's first referral (``case`` is a Case or its id)."""
    case_id = case if isinstance(case, int) else case.id
    return db.session.scalars(
        db.select(Referral).where(Referral.case_id == case_id).order_by(Referral.id)
    ).first()


def test_reply_ok_with_the_reference_acknowledges_and_stops_escalation(directory):
    case = new_case(base=ALERT_CASE)
    referral = primary(case)
    phone = referral.service_point.alert_phone

    reply = try_sms_acknowledgement(phone, f"OK {case.reference}")
    db.session.commit()

    assert case.reference in reply
    db.session.refresh(referral)
    assert referral.acknowledged_via == "sms" and referral.acknowledged_at is not None
    assert referral.status == "acknowledged"
    alert = db.session.scalars(db.select(Alert)).one()
    assert alert.escalate_at is None
    assert check_escalations(now=utcnow() + timedelta(hours=2)) == 0


@pytest.mark.parametrize(
    "template",
    ["NHẬN {ref}", "nhận {ref}", "Nhan {ref}", "nhan {low}", "ok {low}", "Ok: {ref}."],
)
def test_nhan_or_ok_with_or_without_diacritics_in_any_case_acknowledges(directory, template):
    case = new_case(base=ALERT_CASE)
    referral = primary(case)
    body = template.format(ref=case.reference, low=case.reference.lower())

    reply = try_sms_acknowledgement(referral.service_point.alert_phone, body)
    db.session.commit()

    assert reply and case.reference in reply
    db.session.refresh(referral)
    assert referral.acknowledged_via == "sms"


def test_a_reference_without_its_dash_or_with_look_alike_letters_still_matches(directory):
    case = new_case(base=ALERT_CASE)
    referral = primary(case)
    typed = case.reference.replace("-", " ").replace("0", "O").replace("1", "I")

    assert try_sms_acknowledgement(referral.service_point.alert_phone, f"ok {typed}")
    db.session.commit()
    db.session.refresh(referral)
    assert referral.acknowledged_at is not None


def test_an_alert_phone_with_an_unknown_reference_gets_a_short_not_found(directory):
    case = new_case(base=ALERT_CASE)
    referral = primary(case)

    reply = try_sms_acknowledgement(referral.service_point.alert_phone, "OK QN0000-ZZZZZ")

    assert reply and "QN0000-ZZZZZ" in reply and len(reply) < 160
    db.session.refresh(referral)
    assert referral.acknowledged_at is None


def test_a_point_cannot_acknowledge_another_points_case(directory):
    case = new_case(base=ALERT_CASE)
    # A trusted address the case was not referred to (which ones are depends on the hour:
    # opening hours), with a phone none of its points has.
    referred = db.session.scalars(
        db.select(ServicePoint).join(Referral).where(Referral.case_id == case.id)
    ).all()
    other = db.session.scalars(
        db.select(ServicePoint)
        .where(
            ServicePoint.kind == "trusted_address",
            ServicePoint.alert_phone.is_not(None),
            ServicePoint.id.not_in([p.id for p in referred]),
            ServicePoint.alert_phone.not_in([p.alert_phone for p in referred if p.alert_phone]),
        )
        .order_by(ServicePoint.code)
    ).first()
    assert referred and other is not None

    reply = try_sms_acknowledgement(other.alert_phone, f"OK {case.reference}")

    assert reply is not None and "QN" in reply
    assert primary(case).acknowledged_at is None


def test_other_senders_and_other_texts_are_left_to_the_sms_flow(directory):
    case = new_case(base=ALERT_CASE)
    phone = primary(case).service_point.alert_phone

    assert try_sms_acknowledgement("+84900123999", f"OK {case.reference}") is None
    assert try_sms_acknowledgement(phone, "Xin chào, tôi cần giúp đỡ") is None
    assert try_sms_acknowledgement(phone, "okay") is None
    assert primary(case).acknowledged_at is None


def test_the_first_acknowledgement_wins_and_its_time_is_stored(directory):
    case = new_case(base=ALERT_CASE)
    referral = primary(case)
    phone = referral.service_point.alert_phone
    try_sms_acknowledgement(phone, f"OK {case.reference}")
    db.session.commit()
    first_at = primary(case).acknowledged_at
    time.sleep(0.01)

    reply = try_sms_acknowledgement(phone, f"OK {case.reference}")
    assert acknowledge(primary(case), via="api") is False
    db.session.commit()

    assert "đã được xác nhận" in reply
    assert primary(case).acknowledged_via == "sms" and primary(case).acknowledged_at == first_at


def test_signed_link_shows_the_case_and_acknowledges_on_the_button(directory, client, app):
    case = new_case(base=ALERT_CASE)
    case_id = case.id
    with app.test_request_context():
        app.config["PUBLIC_BASE_URL"] = "https://hotline.test"
        try:
            url = ack_url(primary(case).id)
        finally:
            app.config["PUBLIC_BASE_URL"] = None
    path = url.removeprefix("https://hotline.test")

    page = client.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert case.reference in text and "canary" not in text.lower()
    assert primary(case).acknowledged_at is None  # opening (or a link preview) is not enough

    csrf = client.get(path).get_data(as_text=True).split('name="csrf_token" value="')
    form = {"csrf_token": csrf[1].split('"')[0]} if len(csrf) > 1 else {}
    done = client.post(path, data=form)

    assert done.status_code == 303  # post/redirect/get: a reload repeats nothing
    db.session.remove()
    referral = primary(case_id)
    assert referral.acknowledged_via == "link" and referral.acknowledged_at is not None
    assert db.session.scalars(db.select(Alert)).one().escalate_at is None


def test_tampered_or_expired_links_acknowledge_nothing(directory, client, app):
    case = new_case(base=ALERT_CASE)
    referral_id = primary(case).id

    class FifteenDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 15 * 24 * 3600

    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=ACK_SALT, signer=FifteenDaysAgo)
    expired = old.dumps(referral_id)
    forged = URLSafeTimedSerializer("not-our-key", salt=ACK_SALT).dumps(referral_id)

    for token in (expired, forged, "garbage"):
        assert client.get(f"/a/{token}").status_code == 404
        assert client.post(f"/a/{token}").status_code in (400, 404)
    assert primary(case).acknowledged_at is None


def test_api_acknowledgement_records_channel_and_time_and_stops_escalation(directory):
    case = new_case(base=ALERT_CASE)
    referral = primary(case)

    assert acknowledge(referral, via="api") is True
    db.session.commit()

    assert referral.acknowledged_via == "api" and referral.acknowledged_at is not None
    assert check_escalations(now=utcnow() + timedelta(hours=2)) == 0


def test_the_link_in_the_sent_alert_acknowledges(directory, fake_twilio, run_burst, client):
    case_id = new_case(base=ALERT_CASE).id
    run_burst()
    body = fake_twilio.messages[0].form["Body"]
    path = "/a/" + body.split("https://hotline.test/a/")[1].split()[0]

    page = client.get(path).get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post(path, data={"csrf_token": token})

    db.session.remove()
    assert primary(case_id).acknowledged_via == "link"


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.from_regex(r"\s*(ok|nhận|NHAN|Từ chối|tu choi)[ :.,]*[a-zA-Z0-9 -]*", fullmatch=True),
        st.text(alphabet=" \u0301\u0300\u00a0\u3000OoNnTtÔôĐđKkQN0123-", max_size=12),
    )
)
def test_the_quick_look_at_a_text_agrees_with_reading_all_of_it(text):
    """The webhook decides from a text's first letter whether it may be a duty phone's
    acknowledgement (and needs the ORM session): never a different answer than folding the
    whole text and matching the command."""
    whole = _ACK_RE.match(_plain(text)) is not None
    assert looks_like_acknowledgement(text) == whole
