"""The generic SMS gateway adapter: signed JSON in, the reply out, same flow as Twilio."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from hotline.telephony.gateway import sign
from models import Case, Contact, Message, db
from tests.webhooks import CALLER, drain_journal

SECRET = "gateway-secret-for-tests"


@pytest.fixture
def gateway(app, directory):
    app.config["SMS_GATEWAY_SECRET"] = SECRET
    yield app.test_client()
    app.config["SMS_GATEWAY_SECRET"] = None


def post(client, payload, *, secret=SECRET, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
    headers = {"X-Gateway-Signature": sign(body, secret)} if secret else {}
    response = client.post(
        "/sms-gateway/inbound", data=body, headers=headers, content_type="application/json"
    )
    drain_journal(client.application)  # what the worker does next (journal first)
    return response


def message(n: int, text: str, sender: str = "0900777123") -> dict:
    return {"message_id": f"gw-{n}", "from": sender, "to": "18001769", "text": text}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_gateway_message_runs_the_same_conversation(gateway):
    first = post(gateway, message(1, "cứu em"))
    assert first.status_code == 200 and "113" in first.get_json()["reply"]
    second = post(gateway, message(2, "Tiên Yên"))
    assert second.status_code == 200
    case = db.session.scalars(select(Case)).one()
    assert case.channel == "sms"
    contact = db.session.scalars(select(Contact)).one()
    assert contact.provider == "gateway" and contact.caller_number == CALLER


def test_same_message_id_twice_creates_one_case(gateway):
    a = post(gateway, message(3, "em ở Tiên Yên"))
    b = post(gateway, message(3, "em ở Tiên Yên"))
    assert a.get_json() == b.get_json()
    assert count(Case) == 1 and count(Message) == 2


def test_unsigned_or_wrongly_signed_requests_are_refused(gateway):
    assert post(gateway, message(4, "x"), secret=None).status_code == 403
    assert post(gateway, message(4, "x"), secret="other").status_code == 403
    assert count(Message) == 0


def test_without_a_secret_the_endpoint_does_not_exist(app, client, ctx):
    assert app.config["SMS_GATEWAY_SECRET"] is None
    assert post(client, message(5, "x")).status_code == 404


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b'{"from": "x", "to": "y", "text": "z"}',
        b'{"message_id": 5, "from": "x", "to": "y", "text": "z"}',
        b'{"message_id": "m", "from": "x", "to": "y", "text": "\\ud800 lone"}',
        b'{"message_id": "m2", "from": null, "to": "y", "text": "\xff\xfe"}',
    ],
)
def test_bad_bodies_get_a_clean_answer_never_a_500(gateway, raw):
    response = post(gateway, None, raw=raw)
    assert response.status_code in (200, 400)
    assert response.is_json
