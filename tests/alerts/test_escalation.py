"""Unacknowledged alerts escalate along the routing decision's fallback chain, then to the
provincial centre, then to the on-duty operators; acknowledging stops the chain."""

from __future__ import annotations

import time
from datetime import timedelta

from hotline.alerts.acknowledge import try_sms_acknowledgement
from hotline.alerts.escalation import check_escalations
from models import Alert, AuditEvent, OutboxItem, Referral, db
from models.types import utcnow
from tests.conftest import config, wait_for
from tests.factories import ALERT_CASE, new_case, point


def referrals(case) -> list[Referral]:
    return list(
        db.session.scalars(
            db.select(Referral).where(Referral.case_id == case.id).order_by(Referral.id)
        )
    )


def test_unacknowledged_alert_escalates_to_the_next_point_within_30_s(
    app, directory, fake_twilio, start_worker
):
    with config(app, ALERT_ESCALATE_AFTER_SECONDS=2):
        case = new_case(base=ALERT_CASE)
    reference, chain = case.reference, case.routing["chain"]
    deadline = db.session.scalars(db.select(Alert)).one().escalate_at
    start_worker()

    second = wait_for(
        lambda: [m for m in fake_twilio.messages if m.form["To"] == point(chain[1]).alert_phone],
        timeout=40,
    )

    assert reference in second[0].form["Body"]
    assert fake_twilio.messages[0].form["To"] == point(chain[0]).alert_phone
    # The fake answers before the worker commits the send: wait for the record.
    escalated = wait_for(
        lambda: (
            (rows := db.session.scalars(db.select(Alert).order_by(Alert.id)).all())
            and len(rows) > 1
            and rows[1].sent_at
            and rows
        ),
        timeout=10,
    )
    assert escalated[0].escalated_at - deadline < timedelta(seconds=30)
    assert escalated[1].sent_at - deadline < timedelta(seconds=30)
    assert [r.step for r in referrals(case)] == [0, 1]
    event = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "case.escalate")
    ).one()
    assert event.object_id == reference
    assert event.details["from"] == chain[0] and event.details["to"] == chain[1]


def test_acknowledging_by_sms_stops_the_chain(app, directory, fake_twilio, start_worker):
    with config(app, ALERT_ESCALATE_AFTER_SECONDS=3):
        case = new_case(base=ALERT_CASE)
    reference, chain = case.reference, case.routing["chain"]
    start_worker()
    wait_for(lambda: fake_twilio.messages, timeout=20)

    try_sms_acknowledgement(point(chain[0]).alert_phone, f"Nhận {reference}")
    db.session.commit()
    time.sleep(6)  # twice the deadline

    assert len(fake_twilio.messages) == 1
    assert len(referrals(case)) == 1


def test_after_the_chain_the_provincial_centre_then_the_on_duty_operators(directory, app):
    case = new_case(base=ALERT_CASE, area={"commune_code": "06862"}, needs=["counselling"])
    chain = case.routing["chain"]
    later = utcnow()
    for _ in range(len(chain) + 2):
        later += timedelta(hours=1)
        check_escalations(now=later)

    codes = [r.service_point.code for r in referrals(case)]
    assert codes[: len(chain)] == chain
    assert codes[-1] == "DEMO-TT-TINH" and len(codes) == len(set(codes))
    assert db.session.scalars(
        db.select(AuditEvent.action).where(AuditEvent.action == "case.escalation_exhausted")
    ).all() == ["case.escalation_exhausted"]
    work = db.session.scalars(db.select(OutboxItem.job)).all()
    assert "alerts.notify_exhausted" in work


def test_immediate_danger_escalates_after_a_third_of_the_delay(directory, app):
    with config(app, ALERT_ESCALATE_AFTER_SECONDS=900):
        case = new_case(base=ALERT_CASE, risk="immediate")
    alerts = db.session.scalars(db.select(Alert)).all()
    for alert in alerts:
        wait = alert.escalate_at - alert.created_at
        assert timedelta(seconds=290) < wait < timedelta(seconds=310)
    assert check_escalations(now=utcnow() + timedelta(minutes=4)) == 0
    assert check_escalations(now=utcnow() + timedelta(minutes=6)) >= 1
    assert any(r.step == 1 for r in referrals(case))


def test_police_alert_unacknowledged_does_not_start_a_second_chain(directory, app):
    case = new_case(base=ALERT_CASE, risk="immediate")
    police = case.routing["police"]
    assert police is not None

    check_escalations(now=utcnow() + timedelta(hours=1))

    escalations = [r for r in referrals(case) if r.step == 1]
    assert len(escalations) == 1 and escalations[0].service_point.code != police
    assert db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "referral.unacknowledged")
    ).one()


def test_an_acknowledged_case_stops_later_steps_too(directory, app):
    case = new_case(base=ALERT_CASE)
    check_escalations(now=utcnow() + timedelta(hours=1))
    first, _second = referrals(case)
    try_sms_acknowledgement(first.service_point.alert_phone, f"OK {case.reference}")
    db.session.commit()

    check_escalations(now=utcnow() + timedelta(hours=5))

    assert len(referrals(case)) == 2
