"""The HTTP side shared by both gateway dialects: one request, errors classified.

Temporary (retried with backoff, the outbox row stays "sending" so the next run asks
first): timeouts, refused connections, 5xx, 408/425/429, and also 401/403/404 — a wrong
password or URL is a configuration mistake that an administrator fixes, and the alerts
waiting meanwhile must still go out afterwards. Permanent: 400, 413 and 422 — the
gateway read the request and refused it (an invalid number, a text it cannot send).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import requests
from flask import current_app

from hotline.telephony import SendError, SendResult

log = logging.getLogger(__name__)

PERMANENT_STATUSES = frozenset({400, 413, 422})
#: The gateway already holds a message with this id: an earlier run reached it.
DUPLICATE = 409


def base_url() -> str:
    url = current_app.config.get("SMS_GATEWAY_URL")
    if not url:
        raise SendError("not-configured", permanent=False)
    return url.rstrip("/")


def request(method: str, path: str, **kwargs: Any) -> requests.Response:
    """One request to the gateway; transport failures become a temporary SendError."""
    timeout = current_app.config.get("SMS_GATEWAY_TIMEOUT_SECONDS") or 10
    try:
        return requests.request(method, base_url() + path, timeout=timeout, **kwargs)
    except requests.Timeout:
        raise SendError("gw-timeout", permanent=False) from None
    except requests.ConnectionError:
        raise SendError("gw-unreachable", permanent=False) from None
    except requests.RequestException as exc:
        raise SendError(type(exc).__name__[:20], permanent=False) from None


def error_for(response: requests.Response) -> SendError:
    """The SendError for a gateway answer that is not a success (the body is not kept:
    it may echo the number)."""
    status = response.status_code
    error = SendError(f"gw-{status}", permanent=status in PERMANENT_STATUSES)
    log.warning(
        "sms gateway answered HTTP %s (%s)", status, "permanent" if error.permanent else "retry"
    )
    return error


def post_message(payload: dict[str, Any], key: str, provider: str, **auth: Any) -> SendResult:
    """``POST /messages`` (both dialects): accepted, or already held under ``key`` (an
    earlier run reached the gateway) — sent either way; otherwise the SendError."""
    response = request("POST", "/messages", json=payload, **auth)
    if response.status_code in (200, 201, 202, DUPLICATE):
        return SendResult(sid=key, status="queued", provider=provider)
    raise error_for(response)


def find_message(key: str, **auth: Any) -> str | None:
    """``GET /messages/{key}`` (both dialects): the id when the gateway holds it."""
    response = request("GET", f"/messages/{quote(key, safe='')}", **auth)
    if response.status_code == 200:
        return key
    if response.status_code == 404:
        return None
    raise SendError(f"gw-{response.status_code}", permanent=False)
