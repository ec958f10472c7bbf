"""Fixtures for the Zalo OA channel: signed webhook events as Zalo posts them, and the
fake OA API and OAuth server (``tests/fakes/zalo_api.py``) over loopback HTTP."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterator

import pytest
from flask import Flask

from tests.conftest import config
from tests.webhooks import drain_journal

APP_ID = "4321000000000000001"
OA_SECRET = "oa-secret-key-for-tests"
OA_ID = "579745863508352884"
#: A Zalo user id (OA-scoped, decimal) — personal data, used as a canary too.
USER = "8412345678901234567"


def zalo_signature(body: bytes, timestamp: str, app_id: str = APP_ID) -> str:
    """Zalo's ``X-ZEvent-Signature``, computed here from the documented formula (not the
    app's code): ``mac=`` + sha256(app_id + body + timestamp + OA secret key)."""
    return (
        "mac="
        + hashlib.sha256((app_id + body.decode() + timestamp + OA_SECRET).encode()).hexdigest()
    )


class ZaloUser:
    """Posts OA events like Zalo: JSON bodies signed with ``X-ZEvent-Signature``."""

    def __init__(self, app: Flask, client, user_id: str = USER) -> None:
        self.app, self.client, self.user_id = app, client, user_id

    def post(self, payload: dict | bytes, *, signature: str | None = None, timestamp=None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if timestamp is None:
            timestamp = str(payload.get("timestamp", "")) if isinstance(payload, dict) else ""
        headers = {"X-ZEvent-Signature": signature or zalo_signature(body, timestamp)}
        return self.client.post(
            "/zalo/webhook", data=body, headers=headers, content_type="application/json"
        )

    def event(self, event_name: str, message: dict | None = None, **fields) -> dict:
        payload = {
            "app_id": APP_ID,
            "user_id_by_app": "552177279717587730",
            "event_name": event_name,
            "timestamp": str(int(time.time() * 1000)),
            "sender": {"id": self.user_id},
            "recipient": {"id": OA_ID},
            **fields,
        }
        if message is not None:
            payload["message"] = message
        return payload

    def text(self, text: str, msg_id: str | None = None, *, process: bool = True):
        msg_id = msg_id or secrets.token_hex(16)
        response = self.post(self.event("user_send_text", {"msg_id": msg_id, "text": text}))
        if process:
            drain_journal(self.app)
        return response

    def send(self, event_name: str, message: dict, *, process: bool = True):
        response = self.post(self.event(event_name, message))
        if process:
            drain_journal(self.app)
        return response


@pytest.fixture
def zalo(app: Flask, client) -> Iterator[ZaloUser]:
    """The webhook switched on (app id and OA secret key set); no Zalo API configured, so
    replies go to the development outbox."""
    with config(
        app,
        ZALO_APP_ID=APP_ID,
        ZALO_OA_SECRET_KEY=OA_SECRET,
    ):
        yield ZaloUser(app, client)


@pytest.fixture
def fake_zalo(app: Flask) -> Iterator:
    """The fake OA API and OAuth server; the app (and :func:`zalo_env` workers) use it."""
    from tests.fakes.zalo_api import FakeZalo

    fake = FakeZalo(app_id=APP_ID).start()
    settings = {**fake.env(), "ZALO_OA_SECRET_KEY": OA_SECRET}
    with config(app, **settings):
        yield fake
    fake.stop()


@pytest.fixture
def zalo_env(fake_zalo) -> dict[str, str]:
    """Environment to add to workers (``run_burst(**zalo_env)``) so they use the fake."""
    return {**fake_zalo.env(), "ZALO_OA_SECRET_KEY": OA_SECRET}
