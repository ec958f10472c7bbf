"""What the gateways send back: delivery reports (generic and Android) reach the alert, and
an SMS the Android phone received runs the conversation, with the reply sent back through
the phone exactly once — signed requests only, idempotent, nothing personal in logs."""

from __future__ import annotations

import hmac
import json
import logging

import pytest
from sqlalchemy import func, select

from hotline.telephony.smsgateway.android import sign
from hotline.telephony.spool import pending_files, replay_spool
from models import Alert, Case, Contact, InboundJournal, Message, db
from tests.factories import ALERT_CASE, new_case
from tests.telephony.conftest import (
    GATEWAY_SECRET,
    android_event,
    post_android,
    post_status,
    received,
)

SENDER = "+84900777999"
CANARY_TEXT = "canary-sms-Nguyễn-Thị-Lan em ở Tiên Yên"


def count(model) -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(model))


def alerts() -> list[Alert]:
    db.session.remove()
    return list(db.session.scalars(select(Alert).order_by(Alert.id)))


@pytest.fixture
def sent_alert(directory, gateway_fake, run_burst):
    """An alert sent through the generic gateway; its gateway message id."""

    def make(kind: str = "generic") -> str:
        gateway = gateway_fake(kind)
        new_case(base=ALERT_CASE)
        run_burst(**gateway.env())
        alert = alerts()[0]
        assert alert.status == "sent" and alert.provider_sid == gateway.accepted[0].id
        return alert.provider_sid

    return make


# --- generic gateway: POST /sms-gateway/status ---------------------------------------------


def test_generic_delivery_report_reaches_the_alert(client, sent_alert):
    message_id = sent_alert()
    assert post_status(client, {"id": message_id, "status": "delivered"}).status_code == 200
    assert alerts()[0].status == "delivered"
    # A late "sent" never moves it back; the same report twice changes nothing.
    assert post_status(client, {"id": message_id, "status": "sent"}).status_code == 200
    assert post_status(client, {"id": message_id, "status": "delivered"}).status_code == 200
    assert alerts()[0].status == "delivered"


def test_generic_failure_report_marks_the_alert_failed_once(client, sent_alert):
    message_id = sent_alert()
    report = {"id": message_id, "status": "failed", "error": "0900777111"}  # not a code
    assert post_status(client, report).status_code == 200
    after_first = alerts()
    assert after_first[0].status == "failed" and after_first[0].error_code == "gateway"
    assert post_status(client, report).status_code == 200
    assert len(alerts()) == len(after_first)  # no second escalation


def test_generic_report_refused_without_the_signature_and_unknown_ids_are_404(client, sent_alert):
    message_id = sent_alert()
    forged = post_status(client, {"id": message_id, "status": "failed"}, secret="other")
    assert forged.status_code == 403
    assert alerts()[0].status == "sent"
    unknown = post_status(client, {"id": "hl-not-ours", "status": "delivered"})
    assert unknown.status_code == 404  # the gateway retries later
    assert post_status(client, {"id": message_id, "status": "exploded"}).status_code == 400


# --- Android: POST /sms-gateway/android -----------------------------------------------------


def test_android_delivery_and_failure_reports_reach_the_alert(client, sent_alert):
    message_id = sent_alert("android")
    payload = {"messageId": message_id, "recipient": "+84203111222", "simNumber": 1}
    sent = android_event(
        "sms:sent", {**payload, "partsCount": 1, "sentAt": "2026-03-01T10:00:00Z"}
    )
    assert post_android(client, sent).status_code == 200
    assert alerts()[0].status == "sent"
    failed = android_event(
        "sms:failed",
        {**payload, "failedAt": "2026-03-01T10:00:05Z", "reason": "RESULT_ERROR"},
        "ev-2",
    )
    assert post_android(client, failed).status_code == 200
    after_first = alerts()
    assert after_first[0].status == "failed" and after_first[0].error_code == "gateway"
    assert post_android(client, failed).status_code == 200  # the app's retry of the event
    assert len(alerts()) == len(after_first)


def test_android_sms_received_runs_the_conversation_and_replies_through_the_phone_once(
    app, client, directory, gateway_fake, run_burst, caplog
):
    caplog.set_level(logging.DEBUG)
    gateway = gateway_fake("android")
    event = received("4f2a9c1e", SENDER, CANARY_TEXT)

    assert post_android(client, event).status_code == 200
    assert post_android(client, event).status_code == 200  # the app retried the webhook
    first = run_burst(**gateway.env(secret=GATEWAY_SECRET))
    assert post_android(client, event).status_code == 200  # and again, after processing
    second = run_burst(**gateway.env(secret=GATEWAY_SECRET))

    assert count(InboundJournal) == 1 and count(Case) == 1
    replies = gateway.to(SENDER)
    assert len(replies) == 1 and "113" in replies[0].text
    case = db.session.scalars(select(Case)).one()
    alerts_sent = [m for m in gateway.accepted if case.reference in m.text]
    assert len(alerts_sent) == 1 and alerts_sent[0].to != SENDER
    contact = db.session.scalars(select(Contact)).one()
    assert contact.provider == "android" and contact.caller_number == SENDER
    reply = db.session.scalars(select(Message).where(Message.direction == "out")).one()
    assert reply.status == "sent" and reply.provider_sid == replies[0].id

    logs = caplog.text + first.stdout + first.stderr + second.stdout + second.stderr
    for canary in (SENDER, SENDER[3:], "canary-sms", "Nguyễn-Thị-Lan"):
        assert canary not in logs


def test_android_reply_delivery_report_reaches_the_reply(
    client, directory, gateway_fake, run_burst
):
    gateway = gateway_fake("android")
    post_android(client, received("77aa", SENDER, "cứu em"))
    run_burst(**gateway.env(secret=GATEWAY_SECRET))
    (reply,) = gateway.to(SENDER)
    delivered = android_event(
        "sms:delivered",
        {"messageId": reply.id, "recipient": SENDER, "deliveredAt": "2026-03-01T10:00:09Z"},
    )
    assert post_android(client, delivered).status_code == 200
    db.session.remove()
    message = db.session.scalars(select(Message).where(Message.direction == "out")).one()
    assert message.status == "delivered"


def test_stop_is_answered_through_the_phone_and_nothing_is_started_to_the_number_after(
    app, client, directory, gateway_fake, run_burst
):
    from hotline.jobs.delivery import send_once

    gateway = gateway_fake("android")
    post_android(client, received("5709", SENDER, "STOP"))
    run_burst(**gateway.env(secret=GATEWAY_SECRET))
    assert len(gateway.to(SENDER)) == 1  # the confirmation still goes

    with app.app_context():
        delivery = send_once(
            "followup:after-stop", to=SENDER, render=lambda: "x", purpose="follow_up"
        )
    assert delivery.status == "failed" and delivery.error_code == "opted-out"
    assert len(gateway.to(SENDER)) == 1


@pytest.mark.parametrize("how", ["no signature", "wrong key", "no timestamp", "other body"])
def test_android_webhook_refused_unless_signed_and_nothing_is_stored(
    app, client, directory, gateway_fake, how
):
    gateway_fake("android")
    event = received("dead01", SENDER, CANARY_TEXT)
    if how == "no signature":
        response = post_android(client, event, key="")
    elif how == "wrong key":
        response = post_android(client, event, key="not-the-key")
    elif how == "no timestamp":
        body = json.dumps(event).encode()
        response = client.post(
            "/sms-gateway/android",
            data=body,
            headers={"X-Signature": hmac.new(GATEWAY_SECRET.encode(), body, "sha256").hexdigest()},
            content_type="application/json",
        )
    else:
        body = json.dumps(event).encode()
        other = json.dumps(received("dead02", SENDER, "x")).encode()
        response = client.post(
            "/sms-gateway/android",
            data=body,
            headers={"X-Timestamp": "1", "X-Signature": sign(other, "1", GATEWAY_SECRET)},
            content_type="application/json",
        )
    assert response.status_code == 403
    assert count(InboundJournal) == 0 and count(Contact) == 0
    assert pending_files() == []


def test_without_a_signing_key_the_android_endpoint_does_not_exist(app, client, ctx):
    assert app.config["SMS_GATEWAY_SECRET"] is None
    assert post_android(client, received("1", SENDER, "x")).status_code == 404


@pytest.mark.parametrize(
    "sending",
    [{}, {"SMS_GATEWAY_URL": "http://127.0.0.1:9", "SMS_GATEWAY_KIND": "generic"}],
    ids=["no gateway to send through", "a generic gateway"],
)
def test_the_android_endpoint_exists_only_when_sms_go_out_through_the_phone(
    app, client, directory, sending
):
    """Otherwise the phone's SMS would become cases whose senders never get an answer."""
    from tests.conftest import config
    from tests.telephony.conftest import GATEWAY_SECRET

    with config(app, SMS_GATEWAY_SECRET=GATEWAY_SECRET, **sending):
        response = post_android(client, received("1", SENDER, "Tôi ở Tiên Yên"))
    assert response.status_code == 404
    with app.app_context():
        assert count(InboundJournal) == 0 and count(Contact) == 0


def test_received_sms_is_spooled_when_the_database_is_down_and_replayed_once(
    app, service_env, directory, ctx
):
    from hotline import create_app

    broken = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 1}},
            "REDIS_URL": "redis://127.0.0.1:9/0",
            "SMS_GATEWAY_SECRET": GATEWAY_SECRET,
            "SMS_GATEWAY_URL": "http://127.0.0.1:9",
            "SMS_GATEWAY_KIND": "android",
        }
    )
    event = received("5b0f", SENDER, "em ở Tiên Yên")
    response = post_android(broken.test_client(), event)
    assert response.status_code == 200 and response.get_json()["kept"] is True
    assert count(InboundJournal) == 0
    assert len(pending_files()) == 1

    assert replay_spool() == {"replayed": 1, "failed": 0, "unreadable": 0}
    assert replay_spool()["replayed"] == 0
    assert count(InboundJournal) == 1
