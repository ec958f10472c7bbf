"""``X-Twilio-Signature``: checked on every webhook, computed by the dev phone."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from contextlib import suppress

from flask import current_app, request
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)


def signature_url() -> str:
    """The URL Twilio signed: ``PUBLIC_BASE_URL`` + path (+ query as received), or the
    request's own URL when the public base is not configured."""
    query = request.query_string.decode("ascii", "replace")
    suffix = f"?{query}" if query else ""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return f"{base}{request.script_root}{request.path}{suffix}"
    return f"{request.base_url}{suffix}"


def valid_signature() -> bool:
    """Whether this request carries a valid signature for the configured auth token."""
    signature = request.headers.get(SIGNATURE_HEADER, "")
    token = current_app.config.get("TWILIO_AUTH_TOKEN") or ""
    if not signature or not token:
        return False
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    validator = RequestValidator(token)
    url = signature_url()
    if "bodySHA256" not in url:
        # The usual request first, signed for exactly this URL (one HMAC); the library's
        # own check (the URL with and without its port, JSON bodies, unknown algorithms)
        # when that fails.
        with suppress(ValueError):
            expected = validator.compute_signature(url, request.form, algorithm=algorithm)
            if hmac.compare_digest(expected.encode(), signature.encode()):
                return True
    return validator.validate(url, request.form, signature, algorithm=algorithm)


def sign(url: str, params: Mapping[str, str], token: str) -> str:
    """The signature Twilio would send for a POST of ``params`` to ``url``."""
    return RequestValidator(token).compute_signature(url, dict(params))
