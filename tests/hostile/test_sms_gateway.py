"""Hostile bodies on the SMS gateways' report and webhook endpoints, correctly signed so
they reach the handlers: never a 5xx, always JSON, nothing half-stored, nothing spooled,
no failure logged."""

from __future__ import annotations

import json
import logging
import time

from hypothesis import given
from hypothesis import strategies as st

from hotline.telephony.gateway import sign as gateway_sign
from hotline.telephony.smsgateway.android import sign as android_sign
from tests.hostile.conftest import (
    GATEWAY_SECRET,
    HOSTILE,
    NASTY,
    hostile_bytes,
    hostile_text,
    row_counts,
    spool_files,
)
from tests.hostile.test_webhooks import failures_logged, json_value

ANDROID_EVENTS = ["sms:received", "sms:sent", "sms:delivered", "sms:failed", "sms:cancelled"]


def _encode(payload, ascii_only: bool) -> bytes:
    return json.dumps(payload, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@st.composite
def status_bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["report", "report", "any", "bytes"]))
    if kind == "bytes":
        return draw(hostile_bytes | st.binary(max_size=300))
    if kind == "any":
        return _encode(draw(json_value), draw(st.booleans()))
    payload = {
        "id": draw(st.one_of(hostile_text, json_value)),
        "status": draw(st.one_of(st.sampled_from(["sent", "delivered", "failed"]), json_value)),
    }
    if draw(st.booleans()):
        payload["error"] = draw(st.one_of(hostile_text, json_value))
    return _encode(payload, draw(st.booleans()))


@st.composite
def android_bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["event", "event", "event", "any", "bytes"]))
    if kind == "bytes":
        return draw(hostile_bytes | st.binary(max_size=300))
    if kind == "any":
        return _encode(draw(json_value), draw(st.booleans()))
    field = st.one_of(hostile_text, json_value)
    payload = draw(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "messageId": st.one_of(st.text(min_size=1, max_size=12), field),
                    "message": field,
                    "phoneNumber": st.one_of(st.just("+84900777123"), field),
                    "sender": st.one_of(st.just("+84900777123"), field),
                    "recipient": field,
                    "receivedAt": field,
                }
            ),
            json_value,
        )
    )
    event = {
        "deviceId": draw(field),
        "event": draw(st.one_of(st.sampled_from(ANDROID_EVENTS), field)),
        "id": draw(field),
        "payload": payload,
        "webhookId": draw(field),
    }
    return _encode(event, draw(st.booleans()))


def _check(app, response, before, caplog) -> None:
    assert response.status_code < 500, response.status_code
    assert response.is_json
    assert isinstance(response.get_json(), dict)
    assert failures_logged(caplog) == []
    assert spool_files(app) == []
    if response.status_code != 200:
        assert row_counts() == before  # refused: nothing stored, not even in part


def test_hostile_delivery_reports_on_the_generic_gateway(app, gateway, ctx, caplog):
    caplog.set_level(logging.DEBUG)

    @HOSTILE
    @given(status_bodies())
    def run(body):
        caplog.clear()
        before = row_counts()
        response = gateway.post(
            "/sms-gateway/status",
            data=body,
            headers={"X-Gateway-Signature": gateway_sign(body, GATEWAY_SECRET)},
            content_type="application/json",
        )
        assert response.status_code in (200, 400, 404, 413), response.status_code
        _check(app, response, before, caplog)

    run()


def test_hostile_android_webhook_events(app, gateway, ctx, caplog):
    caplog.set_level(logging.DEBUG)

    @HOSTILE
    @given(android_bodies())
    def run(body):
        caplog.clear()
        before = row_counts()
        stamp = str(int(time.time()))
        response = gateway.post(
            "/sms-gateway/android",
            data=body,
            headers={
                "X-Timestamp": stamp,
                "X-Signature": android_sign(body, stamp, GATEWAY_SECRET),
            },
            content_type="application/json",
        )
        assert response.status_code in (200, 400, 404, 413), response.status_code
        _check(app, response, before, caplog)

    run()


def test_nasty_strings_and_nul_in_every_android_field_never_fail(app, gateway, ctx, caplog):
    for nasty in [*NASTY, "a\x00b", "\x00"]:
        caplog.clear()
        event = {
            "deviceId": nasty,
            "event": "sms:received",
            "id": nasty,
            "payload": {
                "messageId": "m" + nasty,
                "message": nasty,
                "sender": "+84900777123" + nasty,
                "recipient": nasty,
                "receivedAt": nasty,
            },
            "webhookId": nasty,
        }
        body = _encode(event, False)
        stamp = "1700000000"
        response = gateway.post(
            "/sms-gateway/android",
            data=body,
            headers={
                "X-Timestamp": stamp,
                "X-Signature": android_sign(body, stamp, GATEWAY_SECRET),
            },
            content_type="application/json",
        )
        assert response.status_code in (200, 400), (nasty, response.status_code)
        assert failures_logged(caplog) == []


def test_huge_bodies_are_refused_before_parsing(app, gateway, ctx):
    body = b'{"event": "sms:received", "payload": {"message": "' + b"x" * 200_000 + b'"}}'
    stamp = "1700000000"
    before = row_counts()
    android = gateway.post(
        "/sms-gateway/android",
        data=body,
        headers={"X-Timestamp": stamp, "X-Signature": android_sign(body, stamp, GATEWAY_SECRET)},
        content_type="application/json",
    )
    status = gateway.post(
        "/sms-gateway/status",
        data=body,
        headers={"X-Gateway-Signature": gateway_sign(body, GATEWAY_SECRET)},
        content_type="application/json",
    )
    assert android.status_code == 413 and status.status_code == 413
    assert row_counts() == before
