"""Twilio's requests turned into the neutral flows, answered and remembered.

Each handler takes the request's form fields (from the webhook, or from the spool on
replay), runs the flow, stores the answer as a receipt and commits once. A request seen
before (same ``MessageSid``; same ``CallSid`` and step URL) gets the stored answer and
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from urllib.parse import parse_qs

from flask import current_app, has_request_context, request

from hotline.telephony import InboundSms
from hotline.telephony.flows import flows
from hotline.telephony.receipts import answer_once
from hotline.telephony.twilio import twiml
from models import db

PROVIDER = "twilio"
VOICE_PATH = "/twilio/voice"
STATUS_PATH = "/twilio/status"
MAX_SID = 64


def public_url(path: str) -> str:
    """An absolute URL Twilio can call back (relative when the base is unknown)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base and has_request_context():
        base = request.host_url.rstrip("/")
    return f"{base or ''}{path}"


def _clean(form: Mapping[str, str]) -> dict[str, str]:
    """The fields without NUL characters, which no PostgreSQL text column can hold (a sid,
    number or digits holding one would fail the request and then its every replay)."""
    return {name: (value or "").replace("\x00", "") for name, value in form.items()}


def _sid(form: Mapping[str, str], *names: str) -> str:
    for name in names:
        value = (form.get(name) or "").strip()
        if value:
            return value[:MAX_SID]
    return ""


def _count(value: str | None) -> int:
    value = (value or "").strip()
    return min(int(value), 100) if value.isdigit() else 0


def _once(key: str, work: Callable[[], str]) -> str:
    return answer_once(PROVIDER, key, work, twiml.CONTENT_TYPE)


def sms(form: Mapping[str, str]) -> str:
    """An inbound SMS → the TwiML reply."""
    form = _clean(form)
    sid = _sid(form, "MessageSid", "SmsSid", "SmsMessageSid")
    if not sid:
        # Not a message Twilio would send: answer safely, store nothing.
        return twiml.render_message(flows().safe_reply())
    message = InboundSms(
        provider=PROVIDER,
        sid=sid,
        sender=form.get("From") or "",
        to=form.get("To") or "",
        body=form.get("Body") or "",
        media_count=_count(form.get("NumMedia")),
    )
    # Idempotent and committed by the flow itself (journal first: DESIGN.md section 10).
    return twiml.render_message(flows().handle_sms(message))


def _step_url(n: int) -> Callable[[str], str]:
    """URLs of the flow's steps; a step may carry its own query (``screen?c=12``)."""

    def url(step: str) -> str:
        name, _sep, query = step.partition("?")
        return public_url(f"{VOICE_PATH}/{name}?{query + '&' if query else ''}n={n}")

    return url


def _render(contact, actions) -> str:
    return _render_step(contact.step_count, actions)


def _render_step(n: int, actions) -> str:
    return twiml.render_voice(actions, _step_url(n), status_url=public_url(STATUS_PATH))


def _render_menu(n: int, actions) -> str:
    """A menu step's TwiML, from a cache: the same prompts at the same step render alike
    (menu steps dial no one, so no phone number is kept here)."""
    return _rendered(tuple(actions), n, public_url(""))


@lru_cache(maxsize=512)
def _rendered(actions: tuple, n: int, _base: str) -> str:
    return _render_step(n, list(actions))


def voice_start(form: Mapping[str, str]) -> str:
    """An incoming call → the greeting and main menu."""
    form = _clean(form)
    sid = _sid(form, "CallSid")
    if not sid:
        return twiml.fallback_voice()

    key = f"voice:{sid}:start"
    quick = flows().quick_voice(PROVIDER, sid, None, form, key, _render_menu)
    if quick is not None:
        return quick

    def work() -> str:
        contact, _new = flows().voice.incoming_call(
            PROVIDER, sid, form.get("From") or "", form.get("To") or ""
        )
        return _render(contact, flows().voice.start(contact))

    return _once(key, work)


def voice_step(step: str, form: Mapping[str, str], query: str) -> str:
    """A later step of a call (a ``<Gather>`` answer, the end of a ``<Dial>`` …)."""
    form = _clean(form)
    sid = _sid(form, "CallSid")
    if not sid:
        return twiml.fallback_voice()
    if step == "recording":
        contact = flows().voice.find_call(PROVIDER, sid)
        if contact is not None:
            flows().voice.store_recording(
                contact,
                form.get("RecordingUrl") or "",
                form.get("RecordingSid") or "",
                form.get("RecordingDuration") or "",
            )
            db.session.commit()
        return twiml.empty()
    params = {k: v[0][:40] for k, v in parse_qs(query[:300]).items() if v}
    if step in flows().voice.LEG_STEPS:
        # A step on an operator's phone, not on the caller's call.
        def leg_work() -> str:
            actions = flows().voice.run_leg_step(PROVIDER, step, params, dict(form))
            n = int(params["n"]) if params.get("n", "").isdigit() else 0
            return twiml.render_voice(actions, _step_url(n), status_url=public_url(STATUS_PATH))

        return _once(f"voice-leg:{sid}:{step}?{query[:120]}", leg_work)
    if step not in flows().voice.STEPS:
        return twiml.fallback_voice()
    key = f"voice:{sid}:{step}?{query[:120]}"
    quick = flows().quick_voice(PROVIDER, sid, step, form, key, _render_menu)
    if quick is not None:
        return quick

    def work() -> str:
        contact, _new = flows().voice.incoming_call(
            PROVIDER, sid, form.get("From") or "", form.get("To") or ""
        )
        fields = {**form, "_leg": params.get("l", "")}
        return _render(contact, flows().voice.run_step(contact, step, fields))

    return _once(key, work)


def status(form: Mapping[str, str]) -> bool:
    """A call or message status callback; False when the id is unknown."""
    form = _clean(form)
    message_sid = _sid(form, "MessageSid", "SmsSid")
    message_state = form.get("MessageStatus") or form.get("SmsStatus") or ""
    if message_sid and message_state:
        found = flows().message_status(
            message_sid, message_state, (form.get("ErrorCode") or "").strip()
        )
    else:
        call_sid = _sid(form, "CallSid")
        if not call_sid:
            return False
        found = flows().voice.call_status(
            PROVIDER,
            call_sid,
            (form.get("CallStatus") or "").strip().lower(),
            (form.get("CallDuration") or "").strip(),
            _sid(form, "ParentCallSid"),
            (form.get("To") or "").strip(),
        )
    db.session.commit()
    return found


def replay(path: str, form: Mapping[str, str]) -> None:
    """Feed a spooled request into the normal flow (see ``hotline.telephony.spool``)."""
    form = _clean(form)
    if path in ("/twilio/sms", "/twilio/fallback/sms"):
        sms(form)
    elif path == STATUS_PATH:
        status(form)
    elif path in (VOICE_PATH, "/twilio/fallback"):
        sid = _sid(form, "CallSid")
        if not sid:
            return
        contact, new = flows().voice.incoming_call(
            PROVIDER, sid, form.get("From") or "", form.get("To") or ""
        )
        if new:
            # The caller heard only the fallback message: somebody should call back.
            contact.ivr_step = "fallback"
            contact.status = "fallback"
            flows().voice.request_callback(contact)
        db.session.commit()
    elif path.startswith(VOICE_PATH + "/"):
        step, _sep, query = path.removeprefix(VOICE_PATH + "/").partition("?")
        voice_step(step, form, query)
