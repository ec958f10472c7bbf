"""SMS Gateway for Android (https://sms-gate.app, github.com/capcom6/android-sms-gateway):
sending through the phone, and the webhook it calls back.

Outbound, a thin client over ``requests`` (the app's API, local server and cloud alike):
``POST {SMS_GATEWAY_URL}/messages`` with basic auth and ``{"id", "textMessage": {"text"},
"phoneNumbers": [to], "withDeliveryReport": true}`` answers 202; the same ``id`` again
answers 409 (the app's message table refuses it); an invalid number answers 400.
``GET {SMS_GATEWAY_URL}/messages/{id}`` answers the message (200) or 404.

Inbound, ``POST /sms-gateway/android`` receives the app's webhooks
(``{"deviceId", "event", "id", "payload", "webhookId"}``), signed by the app with
``X-Signature`` = hex HMAC-SHA256 of the raw body followed by ``X-Timestamp``, keyed with
the app's signing key (``SMS_GATEWAY_SECRET``). ``sms:received`` is an SMS to the hotline
(the conversation flow, whose reply the worker sends back through the phone);
``sms:sent``, ``sms:delivered``, ``sms:failed`` and ``sms:cancelled`` are delivery reports
for messages the service sent. The app retries a webhook that is not answered 2xx.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from hotline.telephony import InboundSms, SendResult
from hotline.telephony.flows import ReplySender, flows
from hotline.telephony.smsgateway.http import find_message, post_message
from hotline.telephony.spool import keep_failed_json
from models import db

log = logging.getLogger(__name__)

PROVIDER = "android"
WEBHOOK_PATH = "/sms-gateway/android"
SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
MAX_BODY = 64 * 1024
#: Webhook events that report on a message the service sent, as delivery statuses.
STATUS_EVENTS = {
    "sms:sent": "sent",
    "sms:delivered": "delivered",
    "sms:failed": "failed",
    "sms:cancelled": "failed",
}
RECEIVED = "sms:received"
#: The events the service registers (docs/sms-gateway.md).
EVENTS = (RECEIVED, *STATUS_EVENTS)


# -- outbound --------------------------------------------------------------------------------


def _auth() -> tuple[str, str]:
    cfg = current_app.config
    return (cfg.get("SMS_GATEWAY_USERNAME") or "", cfg.get("SMS_GATEWAY_PASSWORD") or "")


def send(to: str, body: str, key: str) -> SendResult:
    payload = {
        "id": key,
        "textMessage": {"text": body},
        "phoneNumbers": [to],
        "withDeliveryReport": True,
    }
    return post_message(payload, key, PROVIDER, auth=_auth())


def find(key: str) -> str | None:
    return find_message(key, auth=_auth())


def _send_reply(to: str, body: str, *, key: str) -> SendResult:
    from hotline.telephony import smsgateway

    return smsgateway.send_sms(to, body, key=key)


def _find_reply(_to: str, _body: str, _since: Any, *, key: str) -> str | None:
    from hotline.telephony import smsgateway

    return smsgateway.find_sent(key)


#: Replies to an SMS the phone received are sent back through the gateway by the worker.
REPLY_SENDER = ReplySender(send=_send_reply, find=_find_reply, keyed=True)


# -- webhook ---------------------------------------------------------------------------------

bp = Blueprint("sms_gateway_android", __name__)


def sign(body: bytes, timestamp: str, key: str) -> str:
    """``X-Signature`` as the app computes it (``PayloadSingingPlugin``)."""
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


@bp.before_request
def check_signature():
    cfg = current_app.config
    key = cfg.get("SMS_GATEWAY_SECRET")
    if not key or not (cfg.get("SMS_GATEWAY_URL") and cfg.get("SMS_GATEWAY_KIND") == "android"):
        # Without sending through the phone, its SMS would become cases whose senders never
        # get an answer: the phone's webhook fails at once, where whoever sets it up sees it.
        abort(404)
    if (request.content_length or 0) > MAX_BODY:
        return jsonify(error="too large"), 413
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    sent = request.headers.get(SIGNATURE_HEADER, "").lower()
    expected = sign(request.get_data(cache=True), timestamp, key)
    if not timestamp or not hmac.compare_digest(sent.encode(), expected.encode()):
        log.warning("android gateway webhook refused: missing or invalid signature")
        return jsonify(error="invalid signature"), 403
    return None


@bp.errorhandler(Exception)
def failed(exc: Exception):
    """Keep the event for replay; answer 503 (the app retries) when it could not be kept."""
    if isinstance(exc, HTTPException):
        return jsonify(error=exc.name), exc.code
    log.error("android gateway webhook failed (%s)", type(exc).__name__)
    if keep_failed_json(PROVIDER, WEBHOOK_PATH, "android gateway"):
        return jsonify(ok=True, kept=True)
    return jsonify(error="unavailable"), 503


def _text(value: Any, limit: int) -> str | None:
    """A string field without NUL (no PostgreSQL text holds one) or lone surrogates (no
    UTF-8 does), cut to ``limit``."""
    if not isinstance(value, str):
        return None
    value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "")[:limit]


#: The ids of messages the service sent are plain ASCII (``smsgateway.message_id``).
MESSAGE_ID = re.compile(r"[\x21-\x7e]{1,64}")


def parse_received(payload: dict) -> InboundSms | None:
    """The SMS in an ``sms:received`` event's payload, or None."""
    message_id = _text(payload.get("messageId"), 40)
    sender = _text(payload.get("sender") or payload.get("phoneNumber"), 40)
    text = _text(payload.get("message"), 2000)
    received_at = _text(payload.get("receivedAt") or "", 40)
    to = _text(payload.get("recipient") or "", 40)
    if not message_id or not message_id.strip() or not sender or text is None:
        return None
    if received_at is None or to is None:
        return None
    # The app's id of a received SMS is a 32-bit hash of sender, date and text: with the
    # time received beside it two different messages cannot share a sid.
    sid = f"{message_id.strip()}@{received_at.strip()}"[:64]
    return InboundSms(provider=PROVIDER, sid=sid, sender=sender, to=to, body=text)


def process_event(event: Any) -> tuple[str, int]:
    """Handle one webhook event (also on replay from the spool): (outcome, HTTP status)."""
    if not isinstance(event, dict) or not isinstance(event.get("payload"), dict):
        return "invalid", 400
    kind = event.get("event")
    payload = event["payload"]
    if kind == RECEIVED:
        message = parse_received(payload)
        if message is None:
            return "invalid", 400
        # Journal first, idempotent on (provider, sid), committed by the flow; the reply
        # is sent by the worker through REPLY_SENDER.
        flows().handle_sms(message)
        return "received", 200
    if isinstance(kind, str) and kind in STATUS_EVENTS:
        message_id = payload.get("messageId")
        if not isinstance(message_id, str) or not MESSAGE_ID.fullmatch(message_id):
            return "invalid", 400
        status = STATUS_EVENTS[kind]
        error = "gateway" if status == "failed" else ""
        found = flows().message_status(message_id, status, error)
        db.session.commit()
        # Unknown: perhaps sent by a run whose outcome is not recorded yet; the app
        # retries the webhook later, when the retried send has adopted the id.
        return ("status", 200) if found else ("unknown", 404)
    if not isinstance(kind, str):
        return "invalid", 400
    return "ignored", 200  # system:ping, mms:…: nothing for the hotline


def replay(_path: str, event: dict[str, Any]) -> None:
    """A spooled webhook event fed back in (``hotline.telephony.spool``)."""
    process_event(event)


@bp.post(WEBHOOK_PATH)
def webhook():
    """An event from SMS Gateway for Android."""
    outcome, status = process_event(request.get_json(silent=True))
    if status == 200:
        return jsonify(ok=True, outcome=outcome)
    return jsonify(error=outcome), status
