"""The Zalo Official Account adapter (DESIGN.md section 14; docs/zalo.md).

``webhook`` receives the OA's events at ``POST /zalo/webhook`` and hands user messages to
the same conversation flow as SMS; ``api`` sends text through the OA API from the worker,
with the token pair kept in ``tokens``. A thin client over ``requests`` (already a
dependency): no maintained, typed Python client for the OA API v3 exists on PyPI.
"""

from __future__ import annotations

PROVIDER = "zalo"
CHANNEL = "zalo"


def zalo_key(user_id: str) -> str:
    """What the keyed hash of a Zalo user id is taken of (a namespace of its own, so an id
    can never share a hash with a phone number)."""
    return "zalo:" + user_id
