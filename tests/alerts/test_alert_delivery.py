"""Alerts reach the service point once, through a real worker, the outbox and the fake
Twilio API over HTTP — also when the job runs twice, Twilio fails, or the worker dies."""

from __future__ import annotations

from rq import Retry

from hotline.jobs import registry
from hotline.jobs.queue import get_queue
from models import Alert, AuditEvent, Contact, OutboundSms, OutboxItem, Referral, db
from tests.conftest import wait_for
from tests.factories import ALERT_CASE, CANARY_NOTE, CANARY_PHONE, new_case, point
from tests.workers import kill_worker

CALLER = "+84900555444"


def first_alert() -> Alert:
    """The case's first alert, as the worker left it (a fresh session)."""
    db.session.remove()
    return db.session.scalars(db.select(Alert).order_by(Alert.id)).first()


def flagged_alert_ids() -> list[str]:
    """The alerts flagged for administrators (audit event ``alert.failed``)."""
    return list(
        db.session.scalars(
            db.select(AuditEvent.object_id).where(AuditEvent.action == "alert.failed")
        )
    )


def test_case_alert_is_sent_once_with_the_reference_and_no_personal_data(
    directory, fake_twilio, run_burst
):
    contact = Contact(channel="voice", provider="twilio", provider_sid="CA" + "1" * 32)
    contact.caller_number = CALLER
    db.session.add(contact)
    db.session.commit()
    case = new_case(
        base=ALERT_CASE,
        contact_sid=contact.provider_sid,
        consent={"referral": True, "follow_up": True, "reporting": True},
        safe_contact={"channel": "sms", "phone": CANARY_PHONE, "hours": "09:00-11:00"},
    )
    primary = point(case.routing["chain"][0])
    reference = case.reference

    run_burst()
    run_burst()

    assert len(fake_twilio.messages) == 1
    sms = fake_twilio.messages[0].form
    assert sms["To"] == primary.alert_phone
    assert reference in sms["Body"]
    assert "Xã Tiên Yên" in sms["Body"] and "https://hotline.test/a/" in sms["Body"]
    for secret in (CANARY_NOTE, "777111", "777 111", "555444", "Nguyễn"):
        assert secret not in sms["Body"]
    db.session.remove()
    alert = db.session.scalars(db.select(Alert)).one()
    assert alert.status == "sent" and alert.provider_sid == fake_twilio.messages[0].sid
    assert alert.sent_at is not None
    outbox = {i.job: i.status for i in db.session.scalars(db.select(OutboxItem))}
    assert outbox == {"alerts.send": "done", "followups.send": "pending"}  # day 3 and 14 wait


def test_the_same_alert_job_run_twice_sends_one_sms(directory, fake_twilio, run_burst, app):
    case = new_case(base=ALERT_CASE)
    alert_id = db.session.scalars(db.select(Alert.id)).one()
    db.session.query(OutboxItem).delete()  # enqueue by hand, twice, as a double relay would
    db.session.commit()
    for _ in range(2):
        registry.enqueue("alerts.send", alert_id=alert_id)

    run_burst()

    assert len(fake_twilio.messages) == 1
    assert case.reference in fake_twilio.messages[0].form["Body"]
    db.session.remove()
    row = db.session.scalars(db.select(OutboundSms)).one()
    assert row.key == f"alert:{alert_id}" and row.status == "sent" and row.attempts == 1


def test_an_alert_job_queued_under_its_old_dotted_path_still_runs(
    directory, fake_twilio, run_burst, app
):
    """Jobs already in Redis when the registry shipped keep working for one release."""
    case = new_case(base=ALERT_CASE)
    alert_id = db.session.scalars(db.select(Alert.id)).one()
    db.session.query(OutboxItem).delete()
    db.session.commit()
    legacy = get_queue("alerts").enqueue_call(
        "hotline.jobs.alerts.send_alert", kwargs={"alert_id": alert_id}
    )
    assert legacy.func_name == "hotline.jobs.alerts.send_alert"  # what an old relay stored

    run_burst()

    assert len(fake_twilio.messages) == 1
    assert case.reference in fake_twilio.messages[0].form["Body"]
    assert first_alert().status == "sent"


def test_an_outbox_row_holding_an_old_dotted_path_is_relayed_under_its_name(
    directory, fake_twilio, run_burst, app
):
    case = new_case(base=ALERT_CASE)
    db.session.execute(
        db.update(OutboxItem).values(job="hotline.jobs.alerts.send_alert")
    )  # as a web process of the previous release wrote it
    db.session.commit()

    run_burst()

    assert len(fake_twilio.messages) == 1
    assert case.reference in fake_twilio.messages[0].form["Body"]


def test_twilio_500_then_201_sends_one_sms(directory, fake_twilio, start_worker):
    fake_twilio.fail_next(500, 20500)
    new_case(base=ALERT_CASE)

    start_worker()

    wait_for(lambda: db.session.scalar(db.select(Alert.status)) == "sent", timeout=60)
    posts = [r for r in fake_twilio.requests if r.method == "POST"]
    assert len(posts) == 2  # the 500, then the accepted one
    assert len(fake_twilio.messages) == 1
    alert = db.session.scalars(db.select(Alert)).one()
    assert alert.provider_sid == fake_twilio.messages[0].sid
    assert alert.attempts == 2


def test_permanent_error_is_not_retried_is_flagged_and_moves_the_chain_on(
    directory, fake_twilio, run_burst
):
    fake_twilio.fail_next(400, 21211)  # invalid "To": retrying cannot help
    case = new_case(base=ALERT_CASE)
    chain = case.routing["chain"]

    run_burst()

    first = first_alert()
    assert first.status == "failed" and first.error_code == "21211"
    assert flagged_alert_ids() == [str(first.id)]
    posts_to_primary = [
        r
        for r in fake_twilio.requests
        if r.method == "POST" and r.form.get("To") == point(chain[0]).alert_phone
    ]
    assert len(posts_to_primary) == 1  # never retried
    # The unreachable point does not hold the case: the next one is alerted at once.
    assert [m.form["To"] for m in fake_twilio.messages] == [point(chain[1]).alert_phone]
    assert case.reference in fake_twilio.messages[0].form["Body"]


def test_worker_killed_after_twilio_accepted_still_sends_exactly_one_sms(
    directory, fake_twilio, start_worker
):
    fake_twilio.hold_after_accept = 120  # Twilio has the message; the worker never hears
    reference = new_case(base=ALERT_CASE).reference
    worker = start_worker()
    wait_for(lambda: fake_twilio.messages, timeout=30)

    kill_worker(worker)  # the whole worker: main process, job and scheduler
    fake_twilio.hold_after_accept = 0
    fake_twilio.release()
    db.session.remove()
    alert = db.session.scalars(db.select(Alert)).one()
    assert alert.status == "sending" and alert.provider_sid is None

    start_worker()

    wait_for(lambda: db.session.scalar(db.select(Alert.status)) == "sent", timeout=90)
    assert len(fake_twilio.messages) == 1
    alert = db.session.scalars(db.select(Alert)).one()
    assert alert.provider_sid == fake_twilio.messages[0].sid
    assert reference in fake_twilio.messages[0].form["Body"]
    assert any(r.method == "GET" for r in fake_twilio.requests)  # it asked before resending


def test_job_retry_policy_comes_from_the_job_registry(directory, fake_twilio, app):
    from hotline.jobs.registry import retry_policy
    from hotline.jobs.relay import relay

    new_case(base=ALERT_CASE)
    assert relay() == 1
    job = get_queue("alerts").jobs[0]
    assert job.id == f"outbox-{db.session.scalar(db.select(OutboxItem.id))}"
    expected: Retry = retry_policy("alerts.send")
    assert job.retries_left == expected.max and job.retry_intervals == expected.intervals
    assert relay() == 0  # a second relay enqueues nothing
    assert len(get_queue("alerts").jobs) == 1
    assert db.session.scalar(db.select(Referral.status)) == "pending"


def test_alert_reported_undelivered_by_the_carrier_moves_the_chain_on_at_once(
    app, directory, fake_twilio, run_burst
):
    from tests.webhooks import BASE, Twilio

    case = new_case(base=ALERT_CASE)
    chain, reference = case.routing["chain"], case.reference
    run_burst()
    assert [m.form["To"] for m in fake_twilio.messages] == [point(chain[0]).alert_phone]
    sid = fake_twilio.messages[0].sid

    # The phone is off: Twilio's status callback says the alert never arrived.
    saved = app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = BASE
    try:
        twilio = Twilio(app, app.test_client())
        for _ in range(2):  # Twilio may repeat a callback: one flag, one escalation
            response = twilio.status(
                MessageSid=sid, MessageStatus="undelivered", ErrorCode="30003"
            )
            assert response.status_code == 204
    finally:
        app.config["PUBLIC_BASE_URL"] = saved

    first = first_alert()
    assert first.status == "undelivered" and first.error_code == "30003"
    assert flagged_alert_ids() == [str(first.id)]

    run_burst()  # the escalation check runs in the worker; it does not wait for the deadline

    assert [m.form["To"] for m in fake_twilio.messages] == [
        point(chain[0]).alert_phone,
        point(chain[1]).alert_phone,
    ]
    assert reference in fake_twilio.messages[1].form["Body"]
