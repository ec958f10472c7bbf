"""Fixtures for the SMS gateway tests: a fake gateway over loopback HTTP in either dialect,
and signed webhook posts as the gateways send them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest

from hotline.telephony.gateway import sign as generic_sign
from hotline.telephony.smsgateway.android import sign as android_sign
from tests.fakes.sms_gateway import FakeSmsGateway

GATEWAY_SECRET = "gateway-signing-key-for-tests"


@pytest.fixture
def gateway_fake(app) -> Iterator[Callable[..., FakeSmsGateway]]:
    """``gateway_fake(kind)``: a started fake gateway; the app (this process) sends
    through it and accepts its webhooks signed with :data:`GATEWAY_SECRET`."""
    started: list[FakeSmsGateway] = []
    keys = (
        "SMS_GATEWAY_URL",
        "SMS_GATEWAY_KIND",
        "SMS_GATEWAY_TIMEOUT_SECONDS",
        "SMS_GATEWAY_TOKEN",
        "SMS_GATEWAY_USERNAME",
        "SMS_GATEWAY_PASSWORD",
        "SMS_GATEWAY_SECRET",
    )
    saved = {k: app.config.get(k) for k in keys}

    def make(kind: str = "generic") -> FakeSmsGateway:
        fake = FakeSmsGateway(kind=kind).start()
        started.append(fake)
        app.config.update(fake.config(), SMS_GATEWAY_SECRET=GATEWAY_SECRET)
        return fake

    yield make
    app.config.update(saved)
    for fake in started:
        fake.stop()


def post_android(
    client, event: dict | None, *, key: str = GATEWAY_SECRET, raw: bytes | None = None
):
    """POST one webhook event as SMS Gateway for Android does (``X-Signature`` over the
    body and ``X-Timestamp``)."""
    body = raw if raw is not None else json.dumps(event, ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    headers = {"X-Timestamp": timestamp}
    if key:
        headers["X-Signature"] = android_sign(body, timestamp, key)
    return client.post(
        "/sms-gateway/android", data=body, headers=headers, content_type="application/json"
    )


def post_status(
    client, report: dict | None, *, secret: str = GATEWAY_SECRET, raw: bytes | None = None
):
    """POST one delivery report as the generic gateway does."""
    body = raw if raw is not None else json.dumps(report).encode()
    headers = {"X-Gateway-Signature": generic_sign(body, secret)} if secret else {}
    return client.post(
        "/sms-gateway/status", data=body, headers=headers, content_type="application/json"
    )


def android_event(event: str, payload: dict, event_id: str = "ev-1") -> dict:
    return {
        "deviceId": "ffffffffceb0b1db0000018e937c815b",
        "event": event,
        "id": event_id,
        "payload": payload,
        "webhookId": "hotline",
    }


def received(
    message_id: str, sender: str, text: str, at: str = "2026-03-01T10:00:00.000+07:00"
) -> dict:
    """An ``sms:received`` event as the app sends it."""
    return android_event(
        "sms:received",
        {
            "messageId": message_id,
            "message": text,
            "phoneNumber": sender,
            "sender": sender,
            "recipient": None,
            "simNumber": 1,
            "receivedAt": at,
        },
        event_id="ev-" + message_id,
    )
