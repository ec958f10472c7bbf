"""``POST /zalo/webhook``: the Official Account's events (DESIGN.md section 14).

The signature comes first: ``X-ZEvent-Signature`` must be ``mac=`` + hex SHA-256 of
``ZALO_APP_ID + raw body + timestamp + ZALO_OA_SECRET_KEY`` (``timestamp`` is the event's
own field), else 403 and nothing is stored. Without ``ZALO_OA_SECRET_KEY`` the endpoint
does not exist (404). The answer is always quick (Zalo waits 2 s, then retries): a user's
message is recorded in the journal with the reply decided, and the worker sends the reply
through the OA API. Idempotent on ``message.msg_id``.

Events:
- ``user_send_text`` and the other ``user_send_*`` (image, sticker, gif, location, file,
  …): the SMS conversation; attachments are counted (``media_count``), never stored. A
  shared location is not kept (a survivor's whereabouts): without commune centroids to
  look it up, it is answered like a message without a place — with the place question.
- ``user_received_message`` / ``user_seen_message``: delivery reports (``delivered``,
  ``read``) on the messages the service sent, by ``message.msg_ids``.
- ``unfollow``: treated as STOP (the service starts no message to that user until START);
  ``follow`` and anything else: acknowledged, nothing stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from hotline.privacy import number_hash
from hotline.telephony import InboundSms
from hotline.telephony.flows import flows
from hotline.telephony.spool import keep_failed_json
from hotline.telephony.zalo import CHANNEL, PROVIDER, zalo_key
from models import OptOut, db
from models.types import utcnow

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-ZEvent-Signature"
MAX_BODY = 64 * 1024
MAX_TEXT = 2000
#: Events carrying a user's message (Zalo's names); anything else is not a conversation.
MESSAGE_EVENTS = frozenset(
    {
        "user_send_text",
        "user_send_image",
        "user_send_location",
        "user_send_sticker",
        "user_send_gif",
        "user_send_link",
        "user_send_audio",
        "user_send_video",
        "user_send_file",
        "user_send_business_card",
    }
)
RECEIPT_EVENTS = {"user_received_message": "delivered", "user_seen_message": "read"}
_ID = re.compile(r"[0-9]{1,32}")
_MSG_ID = re.compile(r"[\x21-\x7e]{1,64}")

bp = Blueprint("zalo_webhook", __name__, url_prefix="/zalo")


def sign(body: bytes, app_id: str, timestamp: str, secret: str) -> str:
    """The ``X-ZEvent-Signature`` Zalo sends for ``body``."""
    data = app_id.encode() + body + timestamp.encode() + secret.encode()
    return "mac=" + hashlib.sha256(data).hexdigest()


def _timestamp(body: bytes) -> str:
    """The event's ``timestamp`` as it is signed (a JSON string or number, as written)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return ""
    value = payload.get("timestamp") if isinstance(payload, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value)


@bp.before_request
def check_signature():
    cfg = current_app.config
    secret = cfg.get("ZALO_OA_SECRET_KEY")
    if not secret:
        abort(404)
    if (request.content_length or 0) > MAX_BODY:
        return jsonify(error="too large"), 413
    body = request.get_data(cache=True)
    if len(body) > MAX_BODY:
        return jsonify(error="too large"), 413
    sent = request.headers.get(SIGNATURE_HEADER, "")
    expected = sign(body, cfg.get("ZALO_APP_ID") or "", _timestamp(body), secret)
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        log.warning("zalo webhook refused: missing or invalid signature")
        return jsonify(error="invalid signature"), 403
    return None


@bp.errorhandler(Exception)
def failed(exc: Exception):
    """Past the signature, a failure (the database down) keeps the event in the spool and
    still answers 200: it is replayed into the flow later, and Zalo need not retry."""
    if isinstance(exc, HTTPException):
        return jsonify(error=exc.name), exc.code
    log.error("zalo webhook failed (%s)", type(exc).__name__)
    if not keep_failed_json(PROVIDER, request.path, "zalo"):
        return jsonify(error="unavailable"), 503
    return jsonify(status="spooled")


def _clean(value: Any, limit: int) -> str | None:
    """A string field without NUL (no PostgreSQL text holds one), or None."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    return value.replace("\x00", "")[:limit]


def _user_id(obj: Any) -> str | None:
    value = _clean(obj.get("id"), 40) if isinstance(obj, dict) else None
    return value if value is not None and _ID.fullmatch(value) else None


def parse_message(payload: dict) -> InboundSms | None:
    """The user's message in a ``user_send_*`` event, or None when it is not one."""
    message = payload.get("message")
    if not isinstance(message, dict):
        return None
    msg_id = _clean(message.get("msg_id"), 64)
    sender = _user_id(payload.get("sender"))
    if not msg_id or not _MSG_ID.fullmatch(msg_id) or sender is None:
        return None
    text = message.get("text")
    text = _clean(text, MAX_TEXT) if text is not None else ""
    if text is None:
        return None
    attachments = message.get("attachments")
    count = len(attachments) if isinstance(attachments, list) else 0
    if payload.get("event_name") != "user_send_text":
        count = max(count, 1)
    recipient = _user_id(payload.get("recipient")) or ""
    return InboundSms(
        provider=PROVIDER,
        sid=msg_id,
        sender=sender,
        to=recipient,
        body=text,
        media_count=min(count, 10),
        channel=CHANNEL,
    )


def process_event(payload: Any) -> str:
    """Act on one event (also on replay from the spool); what was done."""
    if not isinstance(payload, dict):
        return "invalid"
    event = payload.get("event_name")
    if not isinstance(event, str):
        return "invalid"
    if event in MESSAGE_EVENTS:
        message = parse_message(payload)
        if message is None:
            return "invalid"
        # Journal first, idempotent on msg_id; committed by the flow. The reply is sent by
        # the worker (the registered reply sender), not in this response.
        flows().handle_sms(message)
        return "message"
    if event in RECEIPT_EVENTS:
        message = payload.get("message")
        ids = message.get("msg_ids") if isinstance(message, dict) else None
        if not isinstance(ids, list):
            return "invalid"
        for item in ids[:50]:
            msg_id = _clean(item, 64)
            if msg_id and _MSG_ID.fullmatch(msg_id):
                flows().message_status(msg_id, RECEIPT_EVENTS[event], "")
        db.session.commit()
        return "receipt"
    if event == "unfollow":
        user_id = _user_id(payload.get("follower")) or _user_id(payload.get("sender"))
        if user_id is None:
            return "invalid"
        _opt_out(user_id)
        return "unfollow"
    return "ignored"


def _opt_out(user_id: str) -> None:
    """An unfollow is a STOP: nothing the service starts goes to this user until START."""
    key = number_hash(zalo_key(user_id))
    row = db.session.get(OptOut, key)
    if row is None:
        db.session.add(OptOut(number_hash=key, opted_out=True))
    else:
        row.opted_out, row.changed_at = True, utcnow()
    db.session.commit()


@bp.post("/webhook")
def webhook():
    """An Official Account event: record it, answer at once."""
    outcome = process_event(request.get_json(silent=True))
    if outcome == "invalid":
        return jsonify(error="not a Zalo OA event this service understands"), 400
    return jsonify(status=outcome)
