"""Sending SMS the service starts itself (alerts, follow-ups, reminders).

Replies to an inbound SMS are given in the webhook's own response, not here. Every send
goes through :func:`send_sms`, which refuses numbers that opted out and picks the
provider: a local SMS gateway when ``SMS_GATEWAY_URL`` is set
(:mod:`hotline.telephony.smsgateway`), else Twilio's REST API when configured
(``TWILIO_API_BASE_URL`` counts, so tests use a local fake), otherwise the development
outbox.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from hotline.privacy import number_hash
from hotline.telephony import Recording, RecordingUnavailable, SendError, SendResult, smsgateway
from models import DevOutboxMessage, OptOut, db

STATUS_CALLBACK_PATH = "/twilio/status"


def status_callback_url() -> str | None:
    """Where the provider reports delivery; None when the public URL is unknown."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    return f"{base}{STATUS_CALLBACK_PATH}" if base else None


def is_opted_out(e164: str) -> bool:
    """Whether this number said STOP (and has not said START since)."""
    return bool(
        db.session.scalar(select(OptOut.opted_out).where(OptOut.number_hash == number_hash(e164)))
    )


def uses_twilio() -> bool:
    cfg = current_app.config
    return bool(cfg.get("TWILIO_LIVE") or cfg.get("TWILIO_API_BASE_URL"))


def send_sms(to: str, body: str, *, key: str | None = None) -> SendResult:
    """Send one SMS now; raise :class:`SendError` (``permanent`` or not) on failure.

    Callers record the returned ``sid`` in the same transaction as "sent", so a job
    that runs twice can tell it already sent. ``key`` is the work's stable message id
    (``hotline.jobs.delivery``): a gateway deduplicates on it.
    """
    if is_opted_out(to):
        raise SendError("opted-out", permanent=True)
    if smsgateway.configured():
        return smsgateway.send_sms(to, body, key=key or "hl" + secrets.token_hex(15))
    if uses_twilio():
        from hotline.telephony.twilio.rest import send_sms as twilio_send

        return twilio_send(to, body, status_callback=status_callback_url())
    if current_app.config["HOTLINE_ENV"] == "production":
        raise SendError("not-configured", permanent=False)
    sid = "DV" + secrets.token_hex(16)
    db.session.add(DevOutboxMessage(sid=sid, to=to, body=body))
    return SendResult(sid=sid, status="delivered", provider="dev")


def find_sent(to: str, body: str, since: datetime, *, key: str | None = None) -> str | None:
    """The provider's id of a message with this text to this number created since
    ``since`` (a gateway: with the message id ``key``), or None. Raises
    :class:`SendError` when the provider cannot be asked.

    The development outbox needs no asking: it is written in the same transaction as the
    "sent" record, so a crash leaves neither.
    """
    if smsgateway.configured():
        return smsgateway.find_sent(key)
    if not uses_twilio():
        return None
    from hotline.telephony.twilio.rest import find_sent as twilio_find_sent

    return twilio_find_sent(to, body, since)


def fetch_recording(url: str) -> Recording:
    """A voicemail's audio from the provider that recorded it (the browser never sees the
    provider's URL); raises :class:`RecordingUnavailable`."""
    if uses_twilio():
        from hotline.telephony.twilio.rest import fetch_recording as twilio_fetch

        return twilio_fetch(url)
    raise RecordingUnavailable("no-provider")


def is_recording_url(url: str) -> bool:
    """Whether a provider's recording URL is one the service may store and fetch later."""
    from hotline.telephony.twilio.rest import is_recording_url as twilio_recording_url

    return twilio_recording_url(url)


# --------------------------------------------------------------------------------------------
# Calls (voice): the provider-neutral side of offers to operators and transfers.


def _dev_call() -> str | None:
    """Without Twilio, outside production: a made-up call sid (the dev phone plays the
    other side); in production, an error to retry."""
    if current_app.config["HOTLINE_ENV"] == "production":
        raise SendError("not-configured", permanent=False)
    return "CA" + "de" + secrets.token_hex(15)


def voice_url(step: str) -> str:
    """The absolute URL of a voice step the provider can call (``step`` may carry a query)."""
    base = current_app.config.get("PUBLIC_BASE_URL") or ""
    return f"{base}/twilio/voice/{step}"


def start_call(to: str, from_: str, step: str, *, timeout: int = 20) -> str:
    """Call ``to``; when answered, the call runs voice step ``step``. The call's sid."""
    if not uses_twilio():
        return _dev_call()  # type: ignore[return-value]
    from hotline.telephony.twilio.rest import start_call as twilio_start

    return twilio_start(
        to, from_, voice_url(step), status_callback=status_callback_url(), timeout=timeout
    )


def move_to_conference(call_sid: str, conference: str) -> None:
    """Take a live call out of what it is doing into the conference ``conference``."""
    if not uses_twilio():
        _dev_call()
        return
    from hotline.telephony import Conference
    from hotline.telephony.twilio.rest import update_call
    from hotline.telephony.twilio.twiml import render_voice

    update_call(call_sid, twiml=render_voice([Conference(conference)], voice_url))


def end_call(call_sid: str) -> None:
    """Hang up one call (an operator leaving a transfer)."""
    if not uses_twilio():
        _dev_call()
        return
    from hotline.telephony.twilio.rest import update_call

    update_call(call_sid, hangup=True)


def add_conference_participant(
    conference: str, to: str, from_: str, *, timeout: int = 25, ends_conference: bool = False
) -> str:
    """Ring ``to`` into the conference (ending it when they leave, if ``ends_conference``);
    the new call's sid."""
    if not uses_twilio():
        return _dev_call()  # type: ignore[return-value]
    from hotline.telephony.twilio.rest import add_conference_participant as twilio_add

    return twilio_add(
        conference,
        to,
        from_,
        status_callback=status_callback_url(),
        timeout=timeout,
        ends_conference=ends_conference,
    )
