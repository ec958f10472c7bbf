"""A second SMS adapter: a local carrier gateway posting JSON (Twilio has no two-way SMS
on Vietnamese numbers).

``POST /sms-gateway/inbound`` with ``{"message_id", "from", "to", "text", "received_at"?}``
and ``X-Gateway-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` keyed with
``SMS_GATEWAY_SECRET``. The answer is ``{"reply": "…"}`` (the gateway sends it), or
``{"reply": null}``. Without ``SMS_GATEWAY_SECRET`` the endpoint does not exist (404).
Same conversation flow as Twilio's, idempotent on ``message_id``.

``POST /sms-gateway/status``, signed the same way, is the delivery report for a message
the service sent through the gateway (:mod:`hotline.telephony.smsgateway.generic`):
``{"id", "status": "sent" | "delivered" | "failed", "error"?}``. 200 when stored (again:
reports are idempotent), 404 when no message has that id (the gateway retries later).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from hotline.telephony import InboundSms
from hotline.telephony.flows import flows
from hotline.telephony.spool import keep_failed_json
from models import db

log = logging.getLogger(__name__)
PROVIDER = "gateway"
SIGNATURE_HEADER = "X-Gateway-Signature"
CONTENT_TYPE = "application/json"
MAX_BODY = 64 * 1024

bp = Blueprint("sms_gateway", __name__, url_prefix="/sms-gateway")


def sign(body: bytes, secret: str) -> str:
    """The header value the gateway sends for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@bp.before_request
def check_signature():
    secret = current_app.config.get("SMS_GATEWAY_SECRET")
    if not secret:
        abort(404)
    if (request.content_length or 0) > MAX_BODY:
        return jsonify(error="too large"), 413
    sent = request.headers.get(SIGNATURE_HEADER, "")
    expected = sign(request.get_data(cache=True), secret)
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        log.warning("sms gateway request refused: missing or invalid signature")
        return jsonify(error="invalid signature"), 403
    return None


@bp.errorhandler(Exception)
def failed(exc: Exception):
    if isinstance(exc, HTTPException):
        return jsonify(error=exc.name), exc.code
    log.error("sms gateway webhook failed (%s)", type(exc).__name__)
    kept = keep_failed_json(PROVIDER, request.path, "sms gateway")
    if request.path == STATUS_PATH:
        # Kept: done. Not kept: the gateway should send the report again later.
        return (jsonify(ok=True), 200) if kept else (jsonify(error="unavailable"), 503)
    return jsonify(reply=flows().safe_reply())


def _text(payload: dict, name: str, limit: int) -> str | None:
    value = payload.get(name, "")
    if value is None:
        value = ""
    # No PostgreSQL text column can hold NUL (a message id or number holding one would
    # fail the request and then its every replay from the spool).
    return value.replace("\x00", "")[:limit] if isinstance(value, str) else None


def parse(payload: Any) -> InboundSms | None:
    """The message in a gateway body, or None when the body is not one."""
    if not isinstance(payload, dict):
        return None
    message_id = _text(payload, "message_id", 64)
    sender = _text(payload, "from", 40)
    to = _text(payload, "to", 40)
    text = _text(payload, "text", 2000)
    if not message_id or not message_id.strip() or sender is None or to is None or text is None:
        return None
    return InboundSms(provider=PROVIDER, sid=message_id.strip(), sender=sender, to=to, body=text)


def process_message(payload: Any) -> str | None:
    """Run the SMS flow once per ``message_id``; the reply (also on replay from the spool)."""
    message = parse(payload)
    if message is None:
        return None
    # Idempotent on message_id and committed by the flow itself (journal first).
    return flows().handle_sms(message)


#: Delivery statuses the generic gateway may report, as the service records them.
STATUSES = {"queued": "queued", "sent": "sent", "delivered": "delivered", "failed": "failed"}
STATUS_PATH = "/sms-gateway/status"
ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{0,10}")
MESSAGE_ID = re.compile(r"[\x21-\x7e]{1,64}")


def process_status(payload: Any) -> tuple[str, int]:
    """Store one delivery report (also on replay from the spool): (outcome, HTTP status)."""
    if not isinstance(payload, dict):
        return "invalid", 400
    message_id = _text(payload, "id", 64)
    status = payload.get("status")
    error = _text(payload, "error", 10)
    if not message_id or not MESSAGE_ID.fullmatch(message_id.strip()):
        return "invalid", 400  # our ids are plain ASCII: anything else is not one of ours
    if not isinstance(status, str) or status not in STATUSES or error is None:
        return "invalid", 400
    if not ERROR_CODE.fullmatch(error) or error.isdigit():
        error = "gateway" if (error or status == "failed") else ""  # a code, never a number
    found = flows().message_status(message_id.strip(), STATUSES[status], error)
    db.session.commit()
    return ("stored", 200) if found else ("unknown", 404)


def replay(path: str, payload: dict[str, Any]) -> None:
    """A spooled request fed back in (``hotline.telephony.spool``)."""
    if path == STATUS_PATH:
        process_status(payload)
    else:
        process_message(payload)


@bp.post("/status")
def status():
    """A delivery report for a message the service sent through the gateway."""
    outcome, code = process_status(request.get_json(silent=True))
    if code == 200:
        return jsonify(ok=True)
    return jsonify(error=outcome), code


@bp.post("/inbound")
def inbound():
    """An SMS from the gateway: answer with the reply to send back."""
    payload = request.get_json(silent=True)
    if parse(payload) is None:
        return jsonify(error="expected message_id, from, to and text"), 400
    return jsonify(reply=process_message(payload))
