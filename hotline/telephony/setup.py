"""Wiring of the telephony adapters into the application: webhook blueprints and the
spool's replay handlers, one per provider."""

from __future__ import annotations

from flask import Blueprint

from hotline.telephony import flows, gateway
from hotline.telephony.smsgateway import android
from hotline.telephony.twilio import handlers as twilio_handlers
from hotline.telephony.twilio import webhooks as twilio_webhooks
from hotline.telephony.zalo import PROVIDER as ZALO
from hotline.telephony.zalo import api as zalo_api
from hotline.telephony.zalo import webhook as zalo_webhook


def blueprints() -> list[Blueprint]:
    """The providers' webhook blueprints (``twilio_webhooks``, ``sms_gateway``,
    ``sms_gateway_android``, ``zalo_webhook``). Providers cannot send a CSRF token; their
    requests are signed instead, so the app factory exempts these blueprints from CSRF."""
    return [twilio_webhooks.bp, gateway.bp, android.bp, zalo_webhook.bp]


#: Where the providers' webhooks live: requests there get no session (no cookie is read
#: or written; they are signed by the provider instead).
WEBHOOK_PREFIXES = ("/twilio/", "/sms-gateway/", "/zalo/")


def init_telephony() -> None:
    """Tell the spool how to replay each provider's kept requests, and how the worker
    answers messages whose webhook cannot carry the reply."""
    flows.register_replay(twilio_handlers.PROVIDER, twilio_handlers.replay)
    flows.register_replay(gateway.PROVIDER, gateway.replay)
    flows.register_replay(android.PROVIDER, android.replay)
    flows.register_replay(ZALO, lambda _path, payload: zalo_webhook.process_event(payload))
    # Neither the Android phone's nor Zalo's webhook answer can carry the reply: the
    # worker sends it, exactly once.
    flows.register_reply_sender(android.PROVIDER, android.REPLY_SENDER)
    flows.register_reply_sender(ZALO, flows.ReplySender(send=zalo_api.send_reply))
