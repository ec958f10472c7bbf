"""Twilio's webhooks (DESIGN.md section 5): ``/twilio/voice``, ``/twilio/sms``,
``/twilio/status``, the voice steps the app puts in its TwiML, and the fallback URLs.

The signature is checked before anything else; a request without a valid one gets 403
and nothing is stored. Views answer at once from the database alone: no call to Twilio,
Redis or anyone else. Should the flow fail (database down), the request is spooled and
the caller still hears or reads the emergency numbers.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from hotline.telephony.spool import pending_files, spool_request
from hotline.telephony.twilio import handlers, twiml
from hotline.telephony.twilio.signature import valid_signature
from models import db

log = logging.getLogger(__name__)

bp = Blueprint("twilio_webhooks", __name__, url_prefix="/twilio")


def _twiml(body: str, status: int = 200) -> Response:
    return Response(body, status=status, content_type=twiml.CONTENT_TYPE)


def _full_path() -> str:
    query = request.query_string.decode("ascii", "replace")
    return f"{request.path}?{query}" if query else request.path


@bp.before_request
def check_signature():
    """Refuse anything Twilio did not sign (before the body is even looked at)."""
    if not valid_signature():
        log.warning("twilio webhook refused: missing or invalid signature (%s)", request.path)
        return _twiml(twiml.empty(), 403)
    return None


@bp.errorhandler(Exception)
def failed(exc: Exception):
    """Keep the request for replay and still give the emergency numbers."""
    if isinstance(exc, HTTPException) and exc.code != 500:
        return _twiml(twiml.empty(), exc.code or 400)
    log.error("twilio webhook failed on %s (%s)", request.path, type(exc).__name__)
    try:
        db.session.rollback()
    except Exception:  # the database may be the thing that is down
        log.error("rollback failed after webhook error")
    try:
        spool_request(handlers.PROVIDER, _full_path(), request.form.to_dict())
    except Exception as spool_exc:
        log.error("spooling failed on %s (%s)", request.path, type(spool_exc).__name__)
    if request.path.startswith("/twilio/sms"):
        return _twiml(twiml.fallback_sms())
    if request.path.startswith("/twilio/status"):
        return Response(status=204)
    return _twiml(twiml.fallback_voice())


@bp.post("/voice")
def incoming_call():
    """A call to the hotline: greeting and main menu."""
    return _twiml(handlers.voice_start(request.form))


@bp.post("/voice/<step>")
def call_step(step: str):
    """A later step of a call, at a URL the app's own TwiML gave."""
    query = request.query_string.decode("ascii", "replace")
    return _twiml(handlers.voice_step(step, request.form, query))


@bp.post("/sms")
def incoming_sms():
    """An SMS to the hotline: the conversation's next reply."""
    return _twiml(handlers.sms(request.form))


@bp.post("/status")
def status_callback():
    """Call progress and message delivery reports."""
    if not handlers.status(request.form) and pending_files():
        # Its call may still wait in the spool (the database was down when it came in):
        # keep the report to replay after it, oldest first.
        spool_request(handlers.PROVIDER, handlers.STATUS_PATH, request.form.to_dict())
    return Response(status=204)


@bp.post("/fallback")
def fallback_call():
    """Twilio's fallback URL for calls: no database, no Redis; spool and answer."""
    spool_request(handlers.PROVIDER, handlers.VOICE_PATH, request.form.to_dict())
    return _twiml(twiml.fallback_voice())


@bp.post("/fallback/sms")
def fallback_sms():
    """Twilio's fallback URL for SMS: no database, no Redis; spool and answer."""
    spool_request(handlers.PROVIDER, "/twilio/sms", request.form.to_dict())
    return _twiml(twiml.fallback_sms())
