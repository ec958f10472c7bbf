"""Webhook test helpers: requests signed exactly as Twilio signs them, TwiML parsed as XML.
The ``public_base`` and ``twilio`` fixtures are in ``tests/conftest.py``."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from flask import Flask
from twilio.request_validator import RequestValidator

BASE = "https://hotline.test"
CALLER = "+84900777123"
HOTLINE = "+841800176900"


class Twilio:
    """Posts webhooks like Twilio: form fields and ``X-Twilio-Signature``."""

    def __init__(self, app: Flask, client) -> None:
        self.app = app
        self.client = client

    def signature(self, url: str, form: dict[str, str]) -> str:
        return RequestValidator(self.app.config["TWILIO_AUTH_TOKEN"]).compute_signature(url, form)

    def post(self, url_or_path: str, form: dict[str, str], headers: dict | None = None):
        url = url_or_path if url_or_path.startswith("http") else BASE + url_or_path
        path = url.removeprefix(BASE)
        signed = {"X-Twilio-Signature": self.signature(url, form), **(headers or {})}
        return self.client.post(path, data=form, headers=signed, base_url=BASE)

    def sms(
        self, body: str, sid: str, sender: str = CALLER, *, process: bool = True, **extra: str
    ):
        """Post an SMS; then, unless ``process=False``, do what the worker does next
        (journal first: the webhook records, the worker makes the rows — see
        :func:`drain_journal`)."""
        form = {
            "MessageSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": HOTLINE,
            "Body": body,
            "NumMedia": "0",
            **extra,
        }
        response = self.post("/twilio/sms", form)
        if process:
            drain_journal(self.app)
        return response

    def call(self, sid: str, sender: str = CALLER):
        form = {"CallSid": sid, "From": sender, "To": HOTLINE, "CallStatus": "ringing"}
        return self.post("/twilio/voice", form)

    def step(self, url: str, sid: str, **fields: str):
        form = {"CallSid": sid, "From": CALLER, "To": HOTLINE, "CallStatus": "in-progress"}
        return self.post(url, {**form, **fields})

    def status(self, **fields: str):
        return self.post("/twilio/status", fields)


def drain_journal(app: Flask) -> int:
    """Process the inbound journal as the worker's loop does (the real
    ``conversations.process_journal``), in a context of its own; how many entries."""
    from hotline.conversations.journal import process_journal

    with app.app_context():
        return process_journal()


def xml(response) -> ET.Element:
    """The TwiML of a response, parsed (a failed parse fails the test)."""
    assert response.content_type.startswith("text/xml"), response.content_type
    root = ET.fromstring(response.get_data())  # noqa: S314 - the app's own TwiML
    assert root.tag == "Response"
    return root


def reply_text(response) -> str:
    messages = xml(response).findall("Message")
    assert len(messages) == 1, response.get_data(as_text=True)
    return messages[0].text or ""


def spoken(element: ET.Element) -> str:
    return " ".join(s.text or "" for s in element.iter("Say"))
