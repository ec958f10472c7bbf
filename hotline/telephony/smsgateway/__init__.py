"""Outbound SMS through a local gateway instead of Twilio (DESIGN.md section 14).

With ``SMS_GATEWAY_URL`` set, every SMS the service starts — alerts, follow-ups,
reminders, operator replies, and replies to messages that came in through a gateway —
is handed to the gateway, in one of two dialects (``SMS_GATEWAY_KIND``):

- ``generic`` (:mod:`.generic`): the small JSON API this project defines
  (docs/sms-gateway.md), for a carrier's or a partner's gateway;
- ``android`` (:mod:`.android`): *SMS Gateway for Android* (sms-gate.app), an app on a
  phone with a local SIM, in local mode (``http://<phone>:8080``) or cloud mode
  (``https://api.sms-gate.app/3rdparty/v1``).

Exactly once: the outbox (``hotline.jobs.delivery.send_once``) gives each piece of work a
stable message id (:func:`message_id`). It is sent as the gateway message's own id, so a
repeated send of the same work is refused by the gateway as a duplicate (HTTP 409, taken
as "already accepted"), and a run that finds the work still "sending" asks the gateway
for that id (``GET …/messages/<id>``) before it sends. The id is also what delivery
reports name, so they find the Alert, FollowUp or Message without any lookup table.

Neither numbers nor texts are logged or put in error codes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import current_app

from hotline.telephony import SendResult


def configured() -> bool:
    """Whether SMS the service starts go through the gateway (``SMS_GATEWAY_URL``)."""
    return bool(current_app.config.get("SMS_GATEWAY_URL"))


def message_id(key: str, row_id: int, first_claimed_at: datetime | None) -> str:
    """The gateway message id of one piece of outbound work: the same for every run of
    that work, different for any other work — also on another installation whose rows
    happen to have the same ids (the time of the first claim is part of it)."""
    claimed = (
        first_claimed_at.replace(tzinfo=None).isoformat(timespec="seconds")
        if (first_claimed_at)
        else ""
    )
    digest = hashlib.sha256(f"{row_id}|{key}|{claimed}".encode()).hexdigest()
    return "hl" + digest[:30]


def _dialect():
    if current_app.config.get("SMS_GATEWAY_KIND") == "android":
        from hotline.telephony.smsgateway import android

        return android
    from hotline.telephony.smsgateway import generic

    return generic


def send_sms(to: str, body: str, *, key: str) -> SendResult:
    """Hand one SMS with message id ``key`` to the gateway; raise ``SendError``.

    No opt-out check here: callers do it (``hotline.telephony.outbound.send_sms``), except
    the reply to an inbound message, which must go even when it says "you opted out"."""
    return _dialect().send(to, body, key)


def find_sent(key: str | None) -> str | None:
    """``key`` when the gateway holds a message with that id, else None; ``SendError``
    when it cannot be asked."""
    if not key:
        return None
    return _dialect().find(key)
