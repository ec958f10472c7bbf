"""Sending text to a Zalo user through the OA API, from the worker only.

``POST {ZALO_API_BASE_URL}/v3.0/oa/message/cs`` with header ``access_token`` and body
``{"recipient": {"user_id"}, "message": {"text"}}`` (a customer-service message: free
inside Zalo's window after the user's last message). The answer is
``{"error": 0, "data": {"message_id"}}`` or ``{"error": <negative code>, "message"}``;
``-216`` (access token invalid or expired) refreshes the token once
(:mod:`hotline.telephony.zalo.tokens`) and sends again.

Without Zalo tokens configured (development, tests of other things) the message goes to
the development outbox, as SMS do; in production that is a temporary error.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import requests
from flask import current_app
from sqlalchemy import select

from hotline.privacy import number_hash
from hotline.telephony import SendError, SendResult
from hotline.telephony.zalo import PROVIDER, tokens, zalo_key
from models import DevOutboxMessage, OptOut, db

log = logging.getLogger(__name__)

TOKEN_INVALID = -216
#: Zalo errors worth retrying later (rate limits, Zalo's own temporary failures).
TEMPORARY_ERRORS = frozenset({-32, -500, -501})
#: Longest text the OA API takes in one message.
MAX_TEXT = 2000
TIMEOUT = 10


def is_opted_out(user_id: str) -> bool:
    """Whether this Zalo user said STOP (or unfollowed) and has not said START since."""
    return bool(
        db.session.scalar(
            select(OptOut.opted_out).where(OptOut.number_hash == number_hash(zalo_key(user_id)))
        )
    )


def send_reply(user_id: str, text: str) -> SendResult:
    """Answer a message the user just sent (the reply to STOP must still go)."""
    return _send(user_id, text)


def send_message(user_id: str, text: str) -> SendResult:
    """A message the service starts (an operator's reply, a follow-up): never to a user
    who opted out."""
    if is_opted_out(user_id):
        raise SendError("opted-out", permanent=True)
    return _send(user_id, text)


def _send(user_id: str, text: str) -> SendResult:
    if not tokens.configured():
        if current_app.config["HOTLINE_ENV"] == "production":
            raise SendError("not-configured", permanent=False)
        sid = "ZDV" + secrets.token_hex(16)
        db.session.add(DevOutboxMessage(sid=sid, to=zalo_key(user_id), body=text))
        return SendResult(sid=sid, status="sent", provider="dev")
    token, version = tokens.current()
    answer = _post(token, user_id, text)
    if answer.get("error") == TOKEN_INVALID:
        token, version = tokens.refresh(version)
        answer = _post(token, user_id, text)
    return _result(answer)


def _post(token: str, user_id: str, text: str) -> dict[str, Any]:
    url = f"{current_app.config['ZALO_API_BASE_URL']}/v3.0/oa/message/cs"
    try:
        response = requests.post(
            url,
            headers={"access_token": token},
            json={"recipient": {"user_id": user_id}, "message": {"text": text[:MAX_TEXT]}},
            timeout=TIMEOUT,
        )
    except requests.Timeout:
        raise SendError("zalo-timeout", permanent=False) from None
    except requests.RequestException:
        raise SendError("zalo-network", permanent=False) from None
    if response.status_code >= 500 or response.status_code == 429:
        raise SendError(f"zalo-http-{response.status_code}", permanent=False)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or not isinstance(answer.get("error", 0), int):
        raise SendError(f"zalo-http-{response.status_code}", permanent=False)
    return answer


def _result(answer: dict[str, Any]) -> SendResult:
    error = answer.get("error", 0)
    if error == 0:
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        sid = str(data.get("message_id") or "")[:64] or "Z" + secrets.token_hex(16)
        return SendResult(sid=sid, status="sent", provider=PROVIDER)
    code = f"zalo{error}"[:10]
    # Zalo's ``message`` may echo the request: codes only in logs.
    log.warning("zalo send refused (error %s)", error)
    permanent = error not in TEMPORARY_ERRORS and error != TOKEN_INVALID
    raise SendError(code, permanent=permanent)
