"""Alerts to service points: acknowledgement by SMS reply.

The SMS flow asks :func:`try_sms_acknowledgement` first, so a duty social worker's
"OK <reference>" never starts a survivor conversation. (Filled in by the alerts work.)
"""

from __future__ import annotations


def try_sms_acknowledgement(from_e164: str, body: str) -> str | None:
    """The reply text when this SMS acknowledges (or tries to acknowledge) an alert, else
    None so the message is handled as a caller's."""
    return None
