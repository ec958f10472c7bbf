"""Hostile bodies on ``POST /zalo/webhook``, correctly signed so they reach the handler:
never a 5xx, never a failure hidden in the spool, nothing half-stored; a huge body or a
bad signature stores nothing at all."""

from __future__ import annotations

import json
import logging

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from models import InboundJournal, db
from tests.conftest import config
from tests.hostile.conftest import HOSTILE, hostile_bytes, hostile_text, row_counts, spool_files
from tests.hostile.test_webhooks import failures_logged, json_value
from tests.webhooks import drain_journal
from tests.zalo.conftest import APP_ID, OA_SECRET, USER, zalo_signature

EVENTS = [
    "user_send_text",
    "user_send_image",
    "user_send_location",
    "user_send_sticker",
    "user_received_message",
    "user_seen_message",
    "follow",
    "unfollow",
]


def signed_timestamp(body: bytes) -> str:
    """The ``timestamp`` Zalo signs: the event's field, as a string."""
    try:
        payload = json.loads(body)
    except ValueError:
        return ""
    value = payload.get("timestamp") if isinstance(payload, dict) else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


@st.composite
def zalo_bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["event", "event", "event", "any", "bytes"]))
    if kind == "bytes":
        return draw(hostile_bytes | st.binary(max_size=300))
    if kind == "any":
        payload = draw(json_value)
    else:
        message = {
            "msg_id": draw(st.one_of(st.text("0123456789abcdef", min_size=8), json_value)),
            "text": draw(st.one_of(hostile_text, json_value)),
        }
        if draw(st.booleans()):
            message["attachments"] = draw(
                st.one_of(
                    json_value,
                    st.just([{"type": "location", "payload": {"coordinates": draw(json_value)}}]),
                )
            )
        if draw(st.booleans()):
            message["msg_ids"] = draw(st.one_of(json_value, st.lists(hostile_text, max_size=3)))
        payload = {
            "app_id": APP_ID,
            "event_name": draw(st.one_of(st.sampled_from(EVENTS), json_value)),
            "timestamp": draw(st.one_of(st.just("1735000000000"), json_value)),
            "sender": draw(
                st.one_of(
                    st.just({"id": USER}), json_value, st.builds(lambda v: {"id": v}, json_value)
                )
            ),
            "recipient": draw(st.one_of(st.just({"id": "579745863508352884"}), json_value)),
            "message": draw(st.one_of(st.just(message), json_value)),
        }
        if draw(st.booleans()):
            payload["follower"] = draw(st.one_of(st.just({"id": USER}), json_value))
    text = json.dumps(payload, ensure_ascii=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")


def post(client, body: bytes, signature: str | None = None):
    signature = signature or zalo_signature_bytes(body)
    return client.post(
        "/zalo/webhook",
        data=body,
        headers={"X-ZEvent-Signature": signature},
        content_type="application/json",
    )


def zalo_signature_bytes(body: bytes) -> str:
    import hashlib

    data = APP_ID.encode() + body + signed_timestamp(body).encode() + OA_SECRET.encode()
    return "mac=" + hashlib.sha256(data).hexdigest()


def test_hostile_bodies_on_the_zalo_webhook(app, demo, caplog):
    caplog.set_level(logging.DEBUG)
    client = app.test_client()

    @HOSTILE
    @given(zalo_bodies())
    def run(body):
        caplog.clear()
        with app.app_context():
            before = row_counts()
        response = post(client, body)
        assert response.status_code in (200, 400, 413), response.status_code
        assert response.is_json and isinstance(response.get_json(), dict)
        assert failures_logged(caplog) == []
        assert spool_files(app) == []
        with app.app_context():
            if response.status_code != 200:
                assert row_counts() == before  # nothing half-stored
            drain_journal(app)
            db.session.remove()
            failed = db.session.scalars(
                select(InboundJournal).where(InboundJournal.error.is_not(None))
            ).all()
            assert failed == []
            db.session.remove()

    with config(app, ZALO_APP_ID=APP_ID, ZALO_OA_SECRET_KEY=OA_SECRET):
        run()


def test_a_huge_or_unsigned_body_stores_nothing(app, demo):
    client = app.test_client()
    huge = json.dumps(
        {
            "app_id": APP_ID,
            "event_name": "user_send_text",
            "timestamp": "1",
            "sender": {"id": USER},
            "message": {"msg_id": "big", "text": "x" * 2_000_000},
        }
    ).encode()
    with config(app, ZALO_APP_ID=APP_ID, ZALO_OA_SECRET_KEY=OA_SECRET):
        with app.app_context():
            before = row_counts()
        assert post(client, huge).status_code == 413
        nul = (
            b'{"event_name": "user_send_text", "timestamp": "1", "message": {"msg_id": '
            b'"a\\u0000b", "text": "\\u0000"}, "sender": {"id": "1\\u00002"}}'
        )
        assert post(client, nul, signature=zalo_signature(nul, "2")).status_code == 403
        with app.app_context():
            after = row_counts()
        assert {k: after[k] - before[k] for k in after} == {k: 0 for k in after}
        # Signed, NUL bytes are dropped (no PostgreSQL text holds one) and the rest kept.
        assert post(client, nul).status_code == 200
        drain_journal(app)
        with app.app_context():
            entry = db.session.scalars(select(InboundJournal)).one()
            assert (entry.provider_sid, entry.sender, entry.error) == ("ab", "12", None)
