"""Every /twilio/* request must be signed for PUBLIC_BASE_URL + path (+ query)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from models import Contact, Message, WebhookReceipt, db
from tests.webhooks import BASE, CALLER

PATHS = [
    "/twilio/sms",
    "/twilio/voice",
    "/twilio/voice/menu?n=1",
    "/twilio/status",
    "/twilio/fallback",
    "/twilio/fallback/sms",
]
FORM = {"MessageSid": "SM" + "1" * 32, "CallSid": "CA" + "1" * 32, "From": CALLER, "Body": "x"}


def stored() -> int:
    return sum(
        db.session.scalar(select(func.count()).select_from(m))
        for m in (Contact, Message, WebhookReceipt)
    )


@pytest.mark.parametrize("path", PATHS)
def test_missing_signature_is_refused_and_nothing_stored(twilio, ctx, app, path):
    response = twilio.client.post(path, data=FORM, base_url=BASE)
    assert response.status_code == 403
    assert response.content_type.startswith("text/xml")
    assert stored() == 0
    from hotline.telephony.spool import pending_files

    assert pending_files() == []


@pytest.mark.parametrize("path", PATHS)
def test_wrong_signature_is_refused(twilio, ctx, path):
    headers = {"X-Twilio-Signature": twilio.signature(BASE + path, {**FORM, "Body": "y"})}
    response = twilio.client.post(path, data=FORM, headers=headers, base_url=BASE)
    assert response.status_code == 403
    assert stored() == 0


def test_signature_for_another_host_or_scheme_is_refused(twilio, ctx):
    for url in ("http://hotline.test/twilio/sms", "https://evil.test/twilio/sms"):
        headers = {"X-Twilio-Signature": twilio.signature(url, FORM)}
        response = twilio.client.post("/twilio/sms", data=FORM, headers=headers, base_url=BASE)
        assert response.status_code == 403


def test_public_base_url_is_used_behind_a_proxy(twilio, ctx):
    """Twilio signs the public URL even though the request reached us on another host."""
    headers = {"X-Twilio-Signature": twilio.signature(BASE + "/twilio/sms", FORM)}
    response = twilio.client.post(
        "/twilio/sms", data=FORM, headers=headers, base_url="http://10.0.0.5:8000"
    )
    assert response.status_code == 200


def test_without_public_base_url_the_request_url_is_signed(app, client, ctx):
    from twilio.request_validator import RequestValidator

    assert app.config["PUBLIC_BASE_URL"] is None
    url = "http://localhost/twilio/sms"
    sig = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(url, FORM)
    response = client.post("/twilio/sms", data=FORM, headers={"X-Twilio-Signature": sig})
    assert response.status_code == 200


def test_refusals_log_no_personal_data(twilio, ctx, caplog):
    with caplog.at_level(logging.DEBUG):
        twilio.client.post("/twilio/sms", data={"From": "+84900999111", "Body": "canary-b"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "refused" in logged
    assert "900999111" not in logged and "canary-b" not in logged


def test_webhooks_neither_read_nor_write_a_session(twilio, client, directory):
    """A provider's webhook signs no one in: a session cookie sent with it is not opened
    (even a forged one) and nothing about sessions comes back; pages still have theirs."""
    client.set_cookie("session", "forged.cookie.value", domain="hotline.test")
    response = twilio.sms("alo", "SM" + "5" * 32, process=False)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    page = client.get("/login", base_url=BASE)
    assert "Cookie" in page.headers.get("Vary", "")  # a page opens the session
