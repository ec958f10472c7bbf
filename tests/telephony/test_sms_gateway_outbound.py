"""SMS the service starts go through the local gateway when ``SMS_GATEWAY_URL`` is set:
once per piece of work, also when the gateway fails, times out after accepting, or is
asked twice — through real workers, the outbox and a fake gateway over HTTP."""

from __future__ import annotations

import pytest

from hotline.jobs.delivery import send_once
from hotline.privacy import number_hash
from models import Alert, OptOut, OutboundSms, db
from tests.conftest import wait_for
from tests.factories import ALERT_CASE, CANARY_NOTE, new_case, point

SURVIVOR = "+84900777123"


def alert_row() -> Alert:
    db.session.remove()
    return db.session.scalars(db.select(Alert).order_by(Alert.id)).first()


@pytest.mark.parametrize("kind", ["generic", "android"])
def test_alert_goes_through_the_gateway_once_after_a_500(
    directory, gateway_fake, fake_twilio, start_worker, kind
):
    gateway = gateway_fake(kind)
    gateway.fail_next(500)
    case = new_case(base=ALERT_CASE)
    primary = point(case.routing["chain"][0])

    start_worker(**gateway.env())

    wait_for(lambda: db.session.scalar(db.select(Alert.status)) == "sent", timeout=60)
    assert [r.status for r in gateway.posts] == [500, 202]
    assert len(gateway.accepted) == 1
    sms = gateway.accepted[0]
    assert sms.to == primary.alert_phone and case.reference in sms.text
    assert CANARY_NOTE not in sms.text
    alert = alert_row()
    assert alert.provider_sid == sms.id and alert.attempts == 2
    assert fake_twilio.messages == []  # not Twilio


@pytest.mark.parametrize("interruption", ["answered-500", "timeout"])
def test_a_send_the_gateway_accepted_but_did_not_confirm_is_found_by_id_not_sent_again(
    directory, gateway_fake, start_worker, interruption
):
    gateway = gateway_fake("android")
    if interruption == "timeout":
        gateway.hold_after_accept = 3.0  # the worker's client gives up after 1 s
    else:
        gateway.accept_then_fail(500)
    new_case(base=ALERT_CASE)

    start_worker(**gateway.env(timeout=1))

    wait_for(lambda: db.session.scalar(db.select(Alert.status)) == "sent", timeout=60)
    assert len(gateway.posts) == 1  # the retry asked first and found it
    assert len(gateway.accepted) == 1
    found = [r for r in gateway.lookups if r.status == 200]
    assert found and found[0].path == f"/messages/{gateway.accepted[0].id}"
    assert alert_row().provider_sid == gateway.accepted[0].id


def test_a_second_send_of_the_same_work_is_refused_by_the_gateway_and_adopted(
    directory, gateway_fake, start_worker
):
    """The lookup misses a message the gateway holds (a slow index, a restarted phone):
    the retry sends again with the same id, the gateway answers 409, nothing is sent
    twice and the work counts as sent."""
    gateway = gateway_fake("generic")
    gateway.accept_then_fail(503)
    gateway.hide_next_lookups = 1
    new_case(base=ALERT_CASE)

    start_worker(**gateway.env())

    wait_for(lambda: db.session.scalar(db.select(Alert.status)) == "sent", timeout=60)
    assert [r.status for r in gateway.posts] == [503, 409]
    assert gateway.posts[0].body["id"] == gateway.posts[1].body["id"]
    assert len(gateway.accepted) == 1
    assert alert_row().provider_sid == gateway.accepted[0].id


def test_an_invalid_number_is_a_permanent_failure_not_retried(directory, gateway_fake, run_burst):
    gateway = gateway_fake("android")
    gateway.fail_next(400)
    new_case(base=ALERT_CASE)

    run_burst(**gateway.env())

    first = alert_row()
    assert first.status == "failed" and first.error_code == "gw-400"
    posts_to_first = [r for r in gateway.posts if r.body["phoneNumbers"] == [first.to_phone]]
    assert len(posts_to_first) == 1


def test_a_misconfigured_password_keeps_the_alert_waiting_instead_of_failing_it(
    directory, gateway_fake, run_burst
):
    gateway = gateway_fake("android")
    new_case(base=ALERT_CASE)

    run_burst(**{**gateway.env(), "SMS_GATEWAY_PASSWORD": "wrong"})

    assert gateway.accepted == []
    alert = alert_row()
    assert alert.status != "failed"
    row = db.session.scalars(db.select(OutboundSms)).one()
    assert row.status == "sending" and row.error_code == "gw-401"

    run_burst(**gateway.env())  # fixed: the waiting alert goes out

    assert len(gateway.accepted) == 1 and alert_row().status == "sent"


def test_opted_out_numbers_are_never_sent_to_through_the_gateway(ctx, gateway_fake):
    gateway = gateway_fake("generic")
    db.session.add(OptOut(number_hash=number_hash(SURVIVOR), opted_out=True))
    db.session.commit()

    delivery = send_once(
        "followup:test-opt-out", to=SURVIVOR, render=lambda: "Xin chào", purpose="follow_up"
    )

    assert delivery.status == "failed" and delivery.error_code == "opted-out"
    assert gateway.requests == []


def test_the_same_work_has_the_same_message_id_and_other_work_another(ctx, gateway_fake):
    """The oracle is the gateway's own store: two pieces of work, two ids; each id is
    what the outbox recorded."""
    gateway = gateway_fake("generic")
    for n in (1, 2):
        send_once(f"followup:id-{n}", to=SURVIVOR, render=lambda: "Xin chào", purpose="follow_up")
    rows = {r.key: r.provider_sid for r in db.session.scalars(db.select(OutboundSms))}
    assert sorted(rows.values()) == sorted(m.id for m in gateway.accepted)
    assert len(set(rows.values())) == 2
