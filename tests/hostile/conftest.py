"""Shared pieces of the hostile-input suite: hostile values, signed raw requests, row counts.

The web fixtures (``demo``, ``token_for``, ``make_case``) are shared ones (``tests/conftest.py``);
the Twilio helpers come from ``tests.webhooks``.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_from_bytes, urlparse

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, table
from twilio.request_validator import RequestValidator

from tests.webhooks import BASE

#: Bounded runs: no example database, no deadline (CI machines vary). A longer soak:
#: ``HOSTILE_EXAMPLES=500 pytest tests/hostile``.
HOSTILE = settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "40")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: The SMS gateway's shared secret while the ``gateway`` fixture is in use.
GATEWAY_SECRET = "hostile-gateway-secret"

SQL = "'; DROP TABLE contact; --"
TEMPLATE = "{{7*7}}"
NASTY = [
    SQL,
    "1' OR '1'='1",
    '" OR ""="',
    TEMPLATE,
    "{% for x in range(3) %}{{x}}{% endfor %}",
    "{% for %}",
    "${7*7}",
    "<script>alert(1)</script>",
    "]]><!--",
    "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
    "\x00",
    "a\x00b",
    "\x01\x02\x07\x08\x0b\x0c\x1b\x7f",
    "\r\n\r\n",
    "9" * 500,
    "#" * 300,
    "😀👩‍👩‍👧🏳️‍🌈",
    "\u202eevil\u202c",
    "\u200f\u200e\u061c",
    "\ufeff",
    "\ud800",
    "../../../../etc/passwd",
    "%00%ff%2e%2e",
    "+84900777123",
    "0900 777 123",
    "Tiên Yên",
    "em đang ở xã Tiên Yên",
    "STOP",
    "1",
    "",
    " ",
    "-1",
    "1e309",
    "NaN",
]

huge_text = st.builds(
    lambda chunk, n: (chunk * n)[:5000],
    st.text(min_size=1, max_size=8),
    st.integers(min_value=200, max_value=5000),
)
control_text = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F) | st.sampled_from("\x7f\u2028"),
    max_size=30,
)
hostile_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=60),
    control_text,
    huge_text,
    st.builds(lambda a, b: a + b, st.sampled_from(NASTY), st.text(max_size=20)),
)
#: Raw bytes for a form value: hostile text as UTF-8, or bytes that are not UTF-8 at all.
hostile_bytes = st.one_of(
    hostile_text.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=40),
    st.sampled_from([b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xe2\x82"]),
)


def encode_form(pairs: list[tuple[bytes, bytes]], raw_bytes: bool = False) -> bytes:
    """An ``application/x-www-form-urlencoded`` body; with ``raw_bytes`` unsafe bytes are
    sent as they are (not percent-escaped), as a broken client would."""
    if raw_bytes:
        return b"&".join(
            k.replace(b"&", b"").replace(b"=", b"") + b"=" + v.replace(b"&", b"") for k, v in pairs
        )
    return "&".join(
        quote_from_bytes(k, safe="") + "=" + quote_from_bytes(v, safe="") for k, v in pairs
    ).encode("ascii")


FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def parsed_form(app: Flask, path: str, body: bytes):
    """The form the app will see for ``body`` (what Twilio's signature is computed over)."""
    return parsed_request(app, path, body)[1]


def parsed_request(app: Flask, path: str, body: bytes):
    """The URL the app checks the signature against (its path percent-decoded) and the form
    it parses from ``body``."""
    from hotline.telephony.twilio.signature import signature_url

    with app.test_request_context(
        path, method="POST", data=body, content_type=FORM_CONTENT_TYPE, base_url=BASE
    ) as rc:
        # twilio's validator compares against ``urlparse(url).geturl()``, which drops tabs
        # and line breaks (a decoded step name may hold them; Twilio's own URLs never do).
        return urlparse(signature_url()).geturl(), rc.request.form.copy()


def twilio_signature(app: Flask, url: str, form, token: str | None = None) -> str:
    return RequestValidator(token or app.config["TWILIO_AUTH_TOKEN"]).compute_signature(url, form)


def post_raw(client, path: str, body: bytes, signature: str | None):
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return client.post(
        path, data=body, headers=headers, content_type=FORM_CONTENT_TYPE, base_url=BASE
    )


def twiml_root(response) -> ET.Element:
    """The response parsed as TwiML (a failed parse fails the test)."""
    assert response.content_type.startswith("text/xml"), response.content_type
    root = ET.fromstring(response.get_data())  # noqa: S314 - the app's own TwiML
    assert root.tag == "Response"
    return root


#: Tables a refused request must leave untouched.
STORED_TABLES = (
    "contact",
    "message",
    "webhook_receipt",
    "inbound_journal",
    "outbox_item",
    "hotline_case",
    "referral",
    "alert",
    "case_code",
    "opt_out",
)


def row_counts(tables=STORED_TABLES) -> dict[str, int]:
    from models import db

    return {
        name: db.session.scalar(select(func.count()).select_from(table(name))) for name in tables
    }


def spool_files(app: Flask) -> list[Path]:
    root = Path(app.instance_path) / "spool"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def gateway(app: Flask, demo) -> Iterator:
    """A client of the app with the SMS gateway enabled (secret :data:`GATEWAY_SECRET`)."""
    values = {
        "SMS_GATEWAY_SECRET": GATEWAY_SECRET,
        # The phone's webhook exists only when SMS go out through the phone; nothing is
        # sent in these tests (no worker runs), so the address is never called.
        "SMS_GATEWAY_URL": "http://127.0.0.1:9",
        "SMS_GATEWAY_KIND": "android",
        "SMS_GATEWAY_USERNAME": "sms",
        "SMS_GATEWAY_PASSWORD": "not-used",
    }
    saved = {k: app.config.get(k) for k in values}
    app.config.update(values)
    try:
        yield app.test_client()
    finally:
        app.config.update(saved)
