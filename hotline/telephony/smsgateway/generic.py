"""The generic gateway's outbound API (docs/sms-gateway.md, "Generic gateway API").

``POST {SMS_GATEWAY_URL}/messages`` with ``Authorization: Bearer {SMS_GATEWAY_TOKEN}`` and
``{"id", "to", "text", "status_url"}``; 200/201/202 accepted, 409 = that id was accepted
before. ``GET {SMS_GATEWAY_URL}/messages/{id}``: 200 when the gateway holds it, 404 when
not. Delivery reports come back to ``POST /sms-gateway/status`` (:mod:`..gateway`).
"""

from __future__ import annotations

from flask import current_app

from hotline.telephony import SendResult
from hotline.telephony.smsgateway.http import find_message, post_message

KIND = "gateway"
STATUS_PATH = "/sms-gateway/status"


def _headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {current_app.config.get('SMS_GATEWAY_TOKEN') or ''}"}


def send(to: str, body: str, key: str) -> SendResult:
    payload = {"id": key, "to": to, "text": body}
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        payload["status_url"] = base + STATUS_PATH
    return post_message(payload, key, KIND, headers=_headers())


def find(key: str) -> str | None:
    return find_message(key, headers=_headers())
