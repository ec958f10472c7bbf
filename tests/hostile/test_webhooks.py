"""Hostile webhook bodies, correctly signed so they reach the handlers: no 5xx, no crash
hidden behind the fallback answer, well-formed TwiML (or JSON for the gateway), and no
template ever evaluated."""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import quote, unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from hotline.conversations.voice import STEPS
from hotline.telephony.gateway import sign as gateway_sign
from tests.hostile.conftest import (
    BASE,
    GATEWAY_SECRET,
    HOSTILE,
    NASTY,
    encode_form,
    hostile_bytes,
    hostile_text,
    parsed_form,
    parsed_request,
    post_raw,
    row_counts,
    spool_files,
    twilio_signature,
    twiml_root,
)
from tests.webhooks import drain_journal

#: A template whose evaluation would be visible: ``tpl49tpl``.
MARKED_TEMPLATE = "tpl{{7*7}}tpl"
EVALUATED = "tpl49tpl"
PHONE_LIKE = re.compile(r"\+?\d[\d .]{4,}\d")

TWILIO_FIELDS = [
    "MessageSid",
    "SmsSid",
    "SmsMessageSid",
    "AccountSid",
    "CallSid",
    "ParentCallSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "CallStatus",
    "CallDuration",
    "Digits",
    "SpeechResult",
    "DialCallStatus",
    "DialCallDuration",
    "RecordingUrl",
    "RecordingSid",
    "RecordingDuration",
    "MessageStatus",
    "SmsStatus",
    "ErrorCode",
]
STEP_NAMES = sorted([*STEPS, "recording"])

sid = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
field_value = st.one_of(
    hostile_bytes,
    st.sampled_from([MARKED_TEMPLATE, "{{7*7}}", "9" * 500, "1", "2", "6#"]).map(str.encode),
)


@st.composite
def twilio_bodies(draw) -> tuple[bytes, bool]:
    """A raw form body of hostile Twilio fields (sometimes repeated, sometimes unknown)."""
    pairs: list[tuple[bytes, bytes]] = []
    # A plausible id most of the time, so the request goes past the id check into the flow.
    if draw(st.booleans()):
        pairs.append((b"MessageSid", ("SM" + draw(sid)).encode()))
    if draw(st.booleans()):
        pairs.append((b"CallSid", ("CA" + draw(sid)).encode()))
    for name in draw(st.lists(st.sampled_from(TWILIO_FIELDS), max_size=10)):
        pairs.append((name.encode(), draw(field_value)))
    for _ in range(draw(st.integers(0, 2))):
        pairs.append((draw(hostile_bytes)[:200] or b"x", draw(field_value)))
    pairs = draw(st.permutations(pairs))
    raw = draw(st.booleans()) and any(not v.isascii() for _k, v in pairs)
    return encode_form(pairs, raw_bytes=raw), raw


def check_twiml(response, sent: bytes) -> None:
    assert response.status_code < 500
    if response.status_code == 204:
        assert response.get_data() == b""
        return
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    twiml_root(response)
    text = response.get_data(as_text=True)
    assert EVALUATED not in text
    if b"{{7*7}}" in sent and b"49" not in sent:
        # Phone numbers (digit runs with spaces or dots) may hold "49"; a rendered
        # template would stand alone.
        assert not re.search(r"(?<![\d.])49(?![\d.])", PHONE_LIKE.sub(" ", text)), text


def failures_logged(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.ERROR or "webhook failed" in r.getMessage()
    ]


@pytest.fixture
def hostile_twilio(app, demo, public_base, caplog):
    caplog.set_level(logging.DEBUG)
    return app


def _fuzz_path(
    app, client, caplog, path: str, body: bytes, *, spools: bool = False, routed: bool = True
) -> None:
    caplog.clear()
    url, form = parsed_request(app, path, body)
    signature = twilio_signature(app, url, form)
    response = post_raw(client, path, body, signature)
    if not routed and response.status_code == 404:
        # A step name with an encoded "/" is no route at all; Twilio never calls one.
        assert "/" in unquote(path.partition("?")[0].removeprefix("/twilio/voice/"))
    else:
        check_twiml(response, body)
    assert failures_logged(caplog) == []
    if not spools:
        assert spool_files(app) == [], "a handler failed and spooled the request"


PLAIN_PATHS = ["/twilio/sms", "/twilio/voice", "/twilio/status"]


@pytest.mark.parametrize("path", PLAIN_PATHS)
def test_hostile_bodies_on_main_webhooks(hostile_twilio, client, caplog, path):
    app = hostile_twilio

    @HOSTILE
    @given(twilio_bodies())
    def run(drawn):
        body, _raw = drawn
        _fuzz_path(app, client, caplog, path, body)

    run()
    if path == "/twilio/sms":
        # The signed requests were recorded, and the worker makes every one into rows.
        with app.app_context():
            recorded = row_counts(("inbound_journal",))["inbound_journal"]
        assert recorded > 0
        drain_journal(app)
        with app.app_context():
            from models import InboundJournal, db

            left = db.session.scalars(
                select(InboundJournal.error).where(InboundJournal.processed_at.is_(None))
            ).all()
        assert left == []
    elif path == "/twilio/voice":
        with app.app_context():  # the signed calls were recorded, with their answers
            assert row_counts(("contact",))["contact"] > 0
    elif path != "/twilio/status":
        with app.app_context():  # the signed requests did reach the flows
            assert row_counts(("contact", "webhook_receipt"))["webhook_receipt"] > 0


@pytest.mark.parametrize("path", ["/twilio/fallback", "/twilio/fallback/sms"])
def test_hostile_bodies_on_fallback_webhooks(hostile_twilio, client, caplog, path):
    """The fallback URLs spool by design; the spool must still be readable afterwards."""
    app = hostile_twilio
    from hotline.telephony.spool import pending_files, read_record

    @HOSTILE
    @given(twilio_bodies())
    def run(drawn):
        body, _raw = drawn
        _fuzz_path(app, client, caplog, path, body, spools=True)

    run()
    with app.app_context():
        files = pending_files()
        assert files
        for path_ in files:
            assert read_record(path_)["path"].startswith("/twilio/")


def test_hostile_bodies_on_every_voice_step(hostile_twilio, client, caplog):
    app = hostile_twilio
    steps = st.one_of(
        st.sampled_from(STEP_NAMES),
        st.sampled_from(NASTY).map(lambda s: quote(s.encode("utf-8", "surrogatepass"), safe="")),
    ).filter(lambda s: s and "/" not in s)
    queries = st.one_of(
        st.integers(0, 10**6).map(lambda n: f"n={n}"),
        hostile_text.map(lambda s: "n=" + quote(s.encode("utf-8", "surrogatepass"), safe="")),
    )

    @HOSTILE
    @given(steps, queries, twilio_bodies())
    def run(step, query, drawn):
        body, _raw = drawn
        path = f"/twilio/voice/{step}?{query}"
        _fuzz_path(app, client, caplog, path, body, routed=step in STEP_NAMES)

    run()


def test_a_whole_call_with_huge_digits_and_injections(hostile_twilio, client, caplog):
    """Walk the real voice flow, answering each Gather with something hostile."""
    app = hostile_twilio

    @HOSTILE
    @given(sid, st.lists(field_value, min_size=1, max_size=6))
    def run(call, answers):
        caplog.clear()
        call_sid = "CA" + call
        form = [(b"CallSid", call_sid.encode()), (b"From", b"+84900777123"), (b"To", b"1800")]
        body = encode_form(form)
        response = post_raw(
            client,
            "/twilio/voice",
            body,
            twilio_signature(app, BASE + "/twilio/voice", parsed_form(app, "/", body)),
        )
        check_twiml(response, body)
        for answer in answers:
            gather = twiml_root(response).find("Gather")
            if gather is None:
                break
            url = gather.get("action")
            path = url.removeprefix(BASE)
            step_body = encode_form([*form, (b"Digits", answer), (b"SpeechResult", answer)])
            signature = twilio_signature(app, url, parsed_form(app, path, step_body))
            response = post_raw(client, path, step_body, signature)
            check_twiml(response, step_body)
        assert failures_logged(caplog) == []
        assert spool_files(app) == []

    run()


# --- the SMS gateway (JSON) ----------------------------------------------------------------

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    hostile_text,
    st.just(MARKED_TEMPLATE),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@st.composite
def gateway_bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["message", "message", "any", "bytes"]))
    if kind == "bytes":
        return draw(hostile_bytes | st.binary(max_size=300))
    if kind == "any":
        payload = draw(json_value)
    else:
        payload = {
            "message_id": draw(st.one_of(sid.map(lambda s: "gw-" + s), json_value)),
            "from": draw(st.one_of(st.just("0900777123"), json_value)),
            "to": draw(st.one_of(st.just("18001769"), json_value)),
            "text": draw(st.one_of(hostile_text, json_value)),
        }
        if draw(st.booleans()):
            payload["received_at"] = draw(json_value)
    text = json.dumps(payload, ensure_ascii=draw(st.booleans()))
    # Lone surrogates cannot be sent as UTF-8; escaped they are valid JSON.
    return text.encode("utf-8", "surrogatepass")


def test_hostile_bodies_on_the_sms_gateway(app, gateway, caplog):
    caplog.set_level(logging.DEBUG)

    @HOSTILE
    @given(gateway_bodies())
    def run(body):
        caplog.clear()
        response = gateway.post(
            "/sms-gateway/inbound",
            data=body,
            headers={"X-Gateway-Signature": gateway_sign(body, GATEWAY_SECRET)},
            content_type="application/json",
        )
        assert response.status_code < 500
        assert response.status_code in (200, 400, 413), response.status_code
        assert response.is_json
        answer = response.get_json()
        assert isinstance(answer, dict)
        assert EVALUATED not in response.get_data(as_text=True)
        if response.status_code == 200:
            assert answer.get("reply") is None or isinstance(answer["reply"], str)
        assert failures_logged(caplog) == []
        assert spool_files(app) == []

    run()
