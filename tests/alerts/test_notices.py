"""Reminders about missing outcomes, callback requests to operators, the commune People's
Committee notice, and the outbox relay's bookkeeping."""

from __future__ import annotations

from datetime import timedelta

from hotline.accounts.users import create_user
from hotline.directory.points import DirectoryEntry, store_entries
from hotline.jobs.outbox import add_work
from hotline.jobs.queue import redis_connection
from hotline.jobs.relay import reconcile, relay
from hotline.referrals.actions import acknowledge
from models import AuditEvent, Contact, OutboundSms, OutboxItem, Referral, User, db
from models.types import utcnow
from tests.factories import ALERT_CASE, new_case, point

CALLER = "+84900555444"


def test_acknowledged_referral_without_outcome_is_reminded_then_the_centre_is_told(
    directory, fake_twilio, run_burst
):
    case = new_case(base=ALERT_CASE)
    run_burst()  # the alert itself
    referral = db.session.scalars(db.select(Referral)).one()
    acknowledge(referral, via="api")
    referral.acknowledged_at = utcnow() - timedelta(days=8)
    db.session.commit()
    point_phone = referral.service_point.alert_phone
    centre_phone = point("DEMO-TT-TINH").alert_phone

    run_burst()
    run_burst()

    later = fake_twilio.messages[1:]
    assert sorted(m.form["To"] for m in later) == sorted([point_phone, centre_phone])
    assert all(case.reference in m.form["Body"] for m in later)
    assert (
        db.session.scalars(
            db.select(AuditEvent.action).where(
                AuditEvent.action.in_(("referral.reminder", "referral.overdue"))
            )
        )
        .all()
        .__len__()
        == 2
    )


def test_no_reminder_once_the_outcome_is_recorded(directory, fake_twilio, run_burst):
    from hotline.referrals.actions import record_outcome

    new_case(base=ALERT_CASE)
    referral = db.session.scalars(db.select(Referral)).one()
    record_outcome(referral, None, ["counselling"])
    referral.acknowledged_at = utcnow() - timedelta(days=8)
    db.session.commit()

    run_burst()

    assert len(fake_twilio.messages) == 1  # the alert only


def test_callback_request_reaches_each_on_duty_operator_once_without_caller_details(
    directory, fake_twilio, run_burst
):
    off = create_user("off-duty-op", "x" * 16, "operator", phone="0900 100 201", on_duty=False)
    contact = Contact(channel="voice", provider="twilio", provider_sid="CA" + "2" * 32)
    contact.caller_number = CALLER
    db.session.add(contact)
    db.session.flush()
    for _ in range(2):  # the voice flow may be retried by Twilio
        add_work(
            "alerts.notify_callback",
            {"contact_id": contact.id},
            queue="alerts",
            dedupe_key=f"callback:{contact.id}",
        )
    db.session.commit()
    on_duty = db.session.scalars(
        db.select(User.phone).where(User.role == "operator", User.on_duty)
    ).all()

    run_burst()
    run_burst()

    assert sorted(m.form["To"] for m in fake_twilio.messages) == sorted(on_duty)
    assert off.phone not in [m.form["To"] for m in fake_twilio.messages]
    for message in fake_twilio.messages:
        assert "555444" not in message.form["Body"] and "555 444" not in message.form["Body"]


def _committee(commune_code: str = "06862") -> None:
    store_entries(
        [
            DirectoryEntry(
                line=0,
                code=f"UBND-{commune_code}",
                name="UBND xã (test)",
                kind="commune_committee",
                commune_code=commune_code,
                district_code=None,
                address="",
                phone="+84900100301",
                alert_phone="+84900100302",
                services=(),
                hours="24/7",
                capacity=None,
                notes="",
            )
        ]
    )
    db.session.commit()


def test_domestic_violence_case_notifies_the_commune_committee_with_the_minimum(
    directory, fake_twilio, run_burst
):
    _committee()
    dv = new_case(base=ALERT_CASE)
    new_case(base=ALERT_CASE, contexts=["sexual_harassment"])

    run_burst()
    run_burst()

    to_committee = [m for m in fake_twilio.messages if m.form["To"] == "+84900100302"]
    assert len(to_committee) == 1
    body = to_committee[0].form["Body"]
    assert dv.reference in body and "canary" not in body.lower()
    assert (
        db.session.scalars(db.select(OutboundSms).where(OutboundSms.purpose == "committee"))
        .one()
        .status
        == "sent"
    )


def test_relay_enqueues_once_and_relays_again_work_that_redis_lost(directory, app):
    new_case(base=ALERT_CASE)
    assert relay() == 1
    item = db.session.scalars(db.select(OutboxItem)).one()
    assert item.status == "enqueued" and item.rq_job_id == f"outbox-{item.id}"

    redis_connection().flushdb()  # e.g. Redis restarted without persistence
    item.enqueued_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert reconcile() == 1
    db.session.refresh(item)
    assert item.status == "pending"
    assert relay() == 1


def test_outbox_work_waits_until_it_is_due(directory, app):
    add_work("system.heartbeat", {}, available_at=utcnow() + timedelta(minutes=10))
    db.session.commit()
    assert relay() == 0
