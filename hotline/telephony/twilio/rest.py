"""Outbound messages through Twilio's REST API (``TWILIO_API_BASE_URL`` honoured)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import requests
from flask import current_app
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from hotline.telephony import Recording, RecordingUnavailable, SendError, SendResult

#: Twilio error codes that will never succeed on retry (invalid "To", unsubscribed
#: recipient, not a mobile number, landline or unreachable carrier, blocked, …).
PERMANENT_CODES = frozenset({21211, 21408, 21610, 21612, 21614, 30003, 30004, 30005, 30006})
#: Default client timeout; ``TWILIO_TIMEOUT_SECONDS`` overrides it (tests use a short one).
TIMEOUT_SECONDS = 10

_clients: dict[tuple[str, str, str | None, float], Client] = {}


def twilio_client() -> Client:
    """One client per process and configuration, pointed at the configured base URL."""
    cfg = current_app.config
    timeout = cfg.get("TWILIO_TIMEOUT_SECONDS") or TIMEOUT_SECONDS
    key = (
        cfg["TWILIO_ACCOUNT_SID"],
        cfg["TWILIO_AUTH_TOKEN"],
        cfg["TWILIO_API_BASE_URL"],
        timeout,
    )
    client = _clients.get(key)
    if client is None:
        client = Client(key[0], key[1], http_client=TwilioHttpClient(timeout=timeout))
        if key[2]:
            client.api.base_url = key[2].rstrip("/")
        _clients[key] = client
    return client


def classify(exc: Exception) -> SendError:
    """Turn a client exception into a temporary or permanent :class:`SendError`."""
    if isinstance(exc, TwilioRestException):
        code = exc.code or exc.status
        permanent = (exc.code in PERMANENT_CODES) or (
            400 <= exc.status < 500 and exc.status not in (408, 429)
        )
        return SendError(str(code), permanent=permanent, detail=f"HTTP {exc.status}")
    # Connection refused, timeouts and unreadable answers: try again later.
    return SendError(type(exc).__name__, permanent=False)


def send_sms(to: str, body: str, *, status_callback: str | None) -> SendResult:
    """Hand one SMS to Twilio; raise :class:`SendError` when it is not accepted."""
    cfg = current_app.config
    sender = cfg["TWILIO_SMS_FROM"] or ""
    kwargs: dict = {"to": to, "body": body}
    if sender.startswith("MG"):
        kwargs["messaging_service_sid"] = sender
    else:
        kwargs["from_"] = sender
    if status_callback:
        kwargs["status_callback"] = status_callback
    try:
        message = twilio_client().messages.create(**kwargs)
    except Exception as exc:
        raise classify(exc) from None
    return SendResult(sid=message.sid, status=message.status or "queued", provider="twilio")


def find_sent(to: str, body: str, since: datetime) -> str | None:
    """The sid of a message Twilio holds with this text to this number since ``since``."""
    try:
        for message in twilio_client().messages.list(to=to, limit=50):
            created = message.date_created
            if message.body == body and (created is None or created >= since):
                return message.sid
    except Exception as exc:
        raise classify(exc) from None
    return None


#: Twilio's own API host; recordings are fetched from it (or the configured base URL) only.
TWILIO_API_HOST = "api.twilio.com"
#: A voicemail is at most a few minutes of 8 kHz audio: anything much larger is refused.
MAX_RECORDING_BYTES = 20 * 1024 * 1024


def is_recording_url(url: str) -> bool:
    """Whether ``url`` is on Twilio's API (https) or the configured base URL."""
    parts = urlsplit(url)
    base = current_app.config.get("TWILIO_API_BASE_URL")
    if base and url.startswith(base.rstrip("/") + "/"):
        return True
    return parts.scheme == "https" and parts.netloc == TWILIO_API_HOST


def fetch_recording(url: str) -> Recording:
    """The audio behind a ``RecordingUrl`` Twilio sent us, fetched with the account's
    credentials. Only Twilio's API host (or the configured base URL) is ever asked, so a
    stored URL cannot make the server fetch anything else."""
    if not is_recording_url(url):
        raise RecordingUnavailable("foreign-host")
    cfg = current_app.config
    timeout = cfg.get("TWILIO_TIMEOUT_SECONDS") or TIMEOUT_SECONDS
    try:
        response = requests.get(
            url,
            auth=(cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"]),
            timeout=timeout,
            stream=True,
        )
    except requests.RequestException:
        raise RecordingUnavailable("provider-unreachable") from None
    with response:
        if response.status_code == 404:
            raise RecordingUnavailable("gone")
        if response.status_code != 200:
            raise RecordingUnavailable(f"http-{response.status_code}")
        content = response.raw.read(MAX_RECORDING_BYTES + 1, decode_content=True)
    if len(content) > MAX_RECORDING_BYTES:
        raise RecordingUnavailable("too-large")
    content_type = response.headers.get("Content-Type") or "audio/x-wav"
    return Recording(content=content, content_type=content_type)


# --------------------------------------------------------------------------------------------
# Calls the service starts or steers (voice: offers to operators, transfers)


def start_call(to: str, from_: str, url: str, *, status_callback: str | None, timeout: int) -> str:
    """Start an outbound call whose TwiML comes from ``url``; the new call's sid."""
    kwargs: dict = {"to": to, "from_": from_, "url": url, "method": "POST", "timeout": timeout}
    if status_callback:
        kwargs.update(
            status_callback=status_callback,
            status_callback_method="POST",
            status_callback_event=["answered", "completed"],
        )
    try:
        return twilio_client().calls.create(**kwargs).sid
    except Exception as exc:
        raise classify(exc) from None


def update_call(sid: str, *, twiml: str | None = None, hangup: bool = False) -> None:
    """Give a live call new TwiML, or end it (``hangup``)."""
    kwargs: dict = {"status": "completed"} if hangup else {"twiml": twiml}
    try:
        twilio_client().calls(sid).update(**kwargs)
    except Exception as exc:
        raise classify(exc) from None


def add_conference_participant(
    conference: str,
    to: str,
    from_: str,
    *,
    status_callback: str | None,
    timeout: int,
    ends_conference: bool = False,
) -> str:
    """Call ``to`` into the conference named ``conference`` (created when it does not
    exist yet); the new participant's call sid."""
    kwargs: dict = {
        "from_": from_,
        "to": to,
        "timeout": timeout,
        "label": "service-point",
        "early_media": False,
        "end_conference_on_exit": ends_conference,
        "beep": "false",
    }
    if status_callback:
        kwargs.update(
            status_callback=status_callback,
            status_callback_method="POST",
            status_callback_event=["ringing", "answered", "completed"],
        )
    try:
        participant = twilio_client().conferences(conference).participants.create(**kwargs)
    except Exception as exc:
        raise classify(exc) from None
    return participant.call_sid
