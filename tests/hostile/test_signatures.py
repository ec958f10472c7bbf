"""Forged and replayed signatures: 403, and not one stored row or spool file."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.telephony.gateway import sign as gateway_sign
from tests.hostile.conftest import (
    BASE,
    GATEWAY_SECRET,
    HOSTILE,
    encode_form,
    hostile_bytes,
    parsed_request,
    post_raw,
    row_counts,
    spool_files,
    twilio_signature,
)

PATHS = [
    "/twilio/sms",
    "/twilio/voice",
    "/twilio/voice/menu?n=1",
    "/twilio/voice/place?n=2",
    "/twilio/voice/recording?n=3",
    "/twilio/status",
    "/twilio/fallback",
    "/twilio/fallback/sms",
]
FORGERIES = [
    "other-url",
    "other-host",
    "other-query",
    "other-body",
    "other-token",
    "missing",
    "empty",
    "garbage",
    "replayed-onto-other-path",
]


@st.composite
def forms(draw) -> list[tuple[bytes, bytes]]:
    """A request that would be stored if it were accepted (a message, a call, a status)."""
    n = draw(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32))
    pairs = [
        (b"MessageSid", f"SM{n}".encode()),
        (b"CallSid", f"CA{n}".encode()),
        (b"From", b"+84900777123"),
        (b"To", b"+841800176900"),
        (b"Body", draw(hostile_bytes) or b"em o Tien Yen"),
        (b"Digits", draw(st.sampled_from([b"1", b"2", b"6#", b"9" * 500]))),
        (b"CallStatus", b"completed"),
        (b"MessageStatus", b"delivered"),
    ]
    return pairs


def forged(app, path: str, pairs, kind: str) -> tuple[str, bytes, str | None]:
    """(path to post to, body, signature header or None) for one kind of forgery."""
    body = encode_form(pairs)
    url, form = parsed_request(app, path, body)
    if kind == "other-url":
        other = "/twilio/sms" if path != "/twilio/sms" else "/twilio/voice"
        return path, body, twilio_signature(app, BASE + other, form)
    if kind == "other-host":
        return path, body, twilio_signature(app, url.replace(BASE, "https://evil.test"), form)
    if kind == "other-query":
        return path, body, twilio_signature(app, url + ("&" if "?" in url else "?") + "n=9", form)
    if kind == "other-body":
        changed = encode_form([(k, v + b"x" if k == b"From" else v) for k, v in pairs])
        return path, changed, twilio_signature(app, url, form)
    if kind == "other-token":
        return path, body, twilio_signature(app, url, form, token="not-the-auth-token")
    if kind == "missing":
        return path, body, None
    if kind == "empty":
        return path, body, ""
    if kind == "garbage":
        return path, body, "' OR 1=1 --\x7f{{7*7}}"
    assert kind == "replayed-onto-other-path"
    other = "/twilio/voice" if path != "/twilio/voice" else "/twilio/sms"
    return other, body, twilio_signature(app, url, form)


@pytest.fixture
def refusals(app, demo, public_base, ctx):
    return app


@pytest.mark.parametrize("path", PATHS)
def test_forged_and_replayed_twilio_signatures_store_nothing(refusals, client, path):
    app = refusals
    before = row_counts()

    @HOSTILE
    @given(forms(), st.sampled_from(FORGERIES))
    def run(pairs, kind):
        target, body, signature = forged(app, path, pairs, kind)
        response = post_raw(client, target, body, signature)
        assert response.status_code == 403, (kind, response.status_code)
        assert response.content_type.startswith("text/xml")
        assert row_counts() == before
        assert spool_files(app) == []

    run()

    # The same requests, correctly signed, are accepted (the forgeries were the only fault).
    body = encode_form(_plain_form())
    url, form = parsed_request(app, path, body)
    response = post_raw(client, path, body, twilio_signature(app, url, form))
    assert response.status_code in (200, 204)


def _plain_form() -> list[tuple[bytes, bytes]]:
    return [
        (b"MessageSid", b"SM" + b"a" * 32),
        (b"CallSid", b"CA" + b"a" * 32),
        (b"From", b"+84900777123"),
        (b"To", b"+841800176900"),
        (b"Body", b"em o Tien Yen"),
        (b"Digits", b"1"),
    ]


GATEWAY_FORGERIES = ["other-body", "other-secret", "missing", "empty", "bare-hex", "upper-hex"]


def test_forged_gateway_signatures_store_nothing(app, gateway, ctx):
    before = row_counts()

    @HOSTILE
    @given(
        st.text(alphabet="0123456789abcdef", min_size=8, max_size=32),
        st.text(max_size=200),
        st.sampled_from(GATEWAY_FORGERIES),
    )
    def run(message_id, text, kind):
        payload = {"message_id": f"gw-{message_id}", "from": "0900777123", "to": "18001769"}
        body = json.dumps({**payload, "text": text}).encode()
        signature: str | None = gateway_sign(body, GATEWAY_SECRET)
        if kind == "other-body":
            body = json.dumps({**payload, "text": text + "!"}).encode()
        elif kind == "other-secret":
            signature = gateway_sign(body, "another-secret")
        elif kind == "missing":
            signature = None
        elif kind == "empty":
            signature = ""
        elif kind == "bare-hex":
            signature = signature.removeprefix("sha256=")
        else:
            signature = "sha256=" + signature.removeprefix("sha256=").upper()
        headers = {"X-Gateway-Signature": signature} if signature is not None else {}
        response = gateway.post(
            "/sms-gateway/inbound", data=body, headers=headers, content_type="application/json"
        )
        assert response.status_code == 403, (kind, response.status_code)
        assert response.is_json
        assert row_counts() == before
        assert spool_files(app) == []

    run()
    body = json.dumps({"message_id": "gw-ok", "from": "0900777123", "to": "1", "text": "x"})
    ok = gateway.post(
        "/sms-gateway/inbound",
        data=body.encode(),
        headers={"X-Gateway-Signature": gateway_sign(body.encode(), GATEWAY_SECRET)},
        content_type="application/json",
    )
    assert ok.status_code == 200
