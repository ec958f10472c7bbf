"""NUL characters in ids and numbers (found by the fuzzing on PostgreSQL, whose text
columns cannot hold NUL): the request runs the normal flow instead of failing into the
fallback answer and the spool (whose replay would fail the same way, for ever)."""

from __future__ import annotations

import json
import logging

import pytest

from hotline.telephony.gateway import sign as gateway_sign
from tests.hostile.conftest import (
    encode_form,
    parsed_request,
    post_raw,
    row_counts,
    spool_files,
    twilio_signature,
    twiml_root,
)
from tests.webhooks import drain_journal

FIELDS = {
    "/twilio/sms": [b"MessageSid", b"From", b"To", b"Body", b"NumMedia"],
    "/twilio/voice": [b"CallSid", b"From", b"To"],
    "/twilio/voice/menu?n=1": [b"CallSid", b"From", b"To", b"Digits"],
    "/twilio/voice/place?n=2": [b"CallSid", b"Digits", b"SpeechResult"],
    "/twilio/status": [b"CallSid", b"CallStatus", b"To", b"ParentCallSid"],
}
BASE_FORM = {
    b"MessageSid": b"SM" + b"e" * 32,
    b"CallSid": b"CA" + b"e" * 32,
    b"From": b"+84900777123",
    b"To": b"+841800176900",
    b"Body": b"em o Tien Yen",
    b"NumMedia": b"0",
    b"Digits": b"1",
    b"SpeechResult": b"Tien Yen",
    b"CallStatus": b"completed",
    b"ParentCallSid": b"CA" + b"f" * 32,
}


def failures(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("path", "field"), [(p, f) for p, fields in FIELDS.items() for f in fields]
)
def test_nul_in_a_twilio_field_runs_the_normal_flow(
    app, demo, public_base, client, ctx, caplog, path, field
):
    caplog.set_level(logging.DEBUG)
    form = {**BASE_FORM, field: BASE_FORM[field][:3] + b"\x00" + BASE_FORM[field][3:]}
    body = encode_form(list(form.items()))
    url, parsed = parsed_request(app, path, body)
    response = post_raw(client, path, body, twilio_signature(app, url, parsed))
    assert response.status_code in (200, 204)
    if response.status_code == 200:
        twiml_root(response)
    assert failures(caplog) == []
    assert spool_files(app) == []
    if path == "/twilio/sms":  # journal first: recorded, then made into rows by the worker
        assert row_counts(("inbound_journal",))["inbound_journal"] == 1
        assert drain_journal(app) == 1
        assert row_counts(("message",))["message"] == 2
    elif path == "/twilio/voice":  # a call's menu steps answer from the call's own row
        assert row_counts(("contact", "webhook_receipt")) == {"contact": 1, "webhook_receipt": 0}
    elif path != "/twilio/status":
        assert row_counts(("webhook_receipt",))["webhook_receipt"] == 1


@pytest.mark.parametrize("field", ["message_id", "from", "to", "text"])
def test_nul_in_a_gateway_field_runs_the_normal_flow(app, demo, ctx, caplog, field):
    caplog.set_level(logging.DEBUG)
    payload = {"message_id": "gw-nul", "from": "0900777123", "to": "18001769", "text": "hi"}
    payload[field] = payload[field][:2] + "\x00" + payload[field][2:]
    body = json.dumps(payload).encode()
    saved = app.config.get("SMS_GATEWAY_SECRET")
    app.config["SMS_GATEWAY_SECRET"] = "nul-secret"
    try:
        response = app.test_client().post(
            "/sms-gateway/inbound",
            data=body,
            headers={"X-Gateway-Signature": gateway_sign(body, "nul-secret")},
            content_type="application/json",
        )
    finally:
        app.config["SMS_GATEWAY_SECRET"] = saved
    assert response.status_code == 200
    assert isinstance(response.get_json()["reply"], str)
    assert failures(caplog) == []
    assert spool_files(app) == []
    assert row_counts(("inbound_journal",))["inbound_journal"] == 1
    assert drain_journal(app) == 1
