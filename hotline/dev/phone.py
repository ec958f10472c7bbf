"""Development pages: the outbox (SMS the service would have sent) and a phone to play a
caller through the real webhooks.

The phone builds each request as Twilio would (same fields, ``X-Twilio-Signature`` signed
with the configured auth token) and posts it to the webhook inside this process, then
shows what the caller would hear or read. Both pages answer 404 in production and when
live Twilio credentials are configured.
"""

from __future__ import annotations

import json
import secrets
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, session
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.telephony.twilio.signature import sign
from models import DevOutboxMessage, db

bp = Blueprint("dev_telephony", __name__, url_prefix="/dev")

DEFAULT_CALLER = "+84900000999"
HOTLINE = "+841800176900"
MAX_LOG = 30


@bp.before_request
def development_only():
    cfg = current_app.config
    if cfg["HOTLINE_ENV"] == "production" or cfg.get("TWILIO_LIVE"):
        abort(404)


@bp.get("/outbox")
def outbox():
    """Messages the service sent while Twilio is not configured, newest first."""
    rows = db.session.scalars(
        select(DevOutboxMessage).order_by(DevOutboxMessage.id.desc()).limit(200)
    ).all()
    return render_template("dev/outbox.html", rows=rows)


# --------------------------------------------------------------------------------------------
# The phone: state per browser session, kept in instance/ (dev only)


def _state_path() -> Path:
    key = session.get("dev_phone")
    if not key or not key.isalnum():
        key = session["dev_phone"] = secrets.token_hex(8)
    directory = Path(current_app.instance_path) / "dev_phone"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{key}.json"


def _load() -> dict[str, Any]:
    path = _state_path()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"caller": DEFAULT_CALLER, "log": [], "call": None}


def _save(state: dict[str, Any]) -> None:
    state["log"] = state["log"][-MAX_LOG:]
    _state_path().write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")


def _post(path: str, form: dict[str, str]) -> str:
    """Post ``form`` to a webhook exactly as Twilio would (signed); the answer's body."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/")
    signature = sign(base + path, form, current_app.config["TWILIO_AUTH_TOKEN"])
    response = current_app.test_client().post(
        path, data=form, headers={"X-Twilio-Signature": signature}, base_url=base
    )
    return response.get_data(as_text=True)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _read_voice(state: dict[str, Any], xml: str) -> None:
    """What the caller hears, and what they can do next, from a TwiML answer."""
    call = state["call"]
    call.update(gather=None, redirect=None, dial=None, record=None, numbers=[])
    try:
        root = ET.fromstring(xml)  # noqa: S314 - our own TwiML, not untrusted input
    except ET.ParseError:
        state["call"] = None
        return
    for el in root:
        if el.tag == "Say":
            state["log"].append({"who": "hotline", "text": el.text or ""})
        elif el.tag == "Gather":
            for say in el.iter("Say"):
                state["log"].append({"who": "hotline", "text": say.text or ""})
            call["gather"] = _path(el.get("action", ""))
        elif el.tag == "Dial":
            call["dial"] = _path(el.get("action", ""))
            call["numbers"] = [n.text or "" for n in el.iter("Number")]
            state["log"].append({"who": "system", "text": _("Operators' phones ring.")})
            return
        elif el.tag == "Record":
            call["record"] = _path(el.get("action", ""))
            return
        elif el.tag == "Redirect":
            call["redirect"] = _path(el.text or "")
            return
        elif el.tag == "Hangup":
            _end_call(state)
            return


def _end_call(state: dict[str, Any]) -> None:
    call = state.get("call")
    if not call:
        return
    form = {"CallSid": call["sid"], "CallStatus": "completed", "CallDuration": "60"}
    _post("/twilio/status", form)
    state["log"].append({"who": "system", "text": _("Call ended.")})
    state["call"] = None


def _call_form(state: dict[str, Any], **extra: str) -> dict[str, str]:
    return {
        "CallSid": state["call"]["sid"],
        "AccountSid": current_app.config["TWILIO_ACCOUNT_SID"],
        "From": state["caller"],
        "To": HOTLINE,
        "CallStatus": "in-progress",
        "Direction": "inbound",
        **extra,
    }


@bp.get("/phone")
def phone():
    """Play a caller: send an SMS, place a call, press keys."""
    return render_template("dev/phone.html", state=_load())


@bp.post("/phone/sms")
def phone_sms():
    state = _load()
    state["caller"] = (request.form.get("caller") or DEFAULT_CALLER).strip()[:20]
    text = (request.form.get("text") or "")[:1600]
    form = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": current_app.config["TWILIO_ACCOUNT_SID"],
        "From": state["caller"],
        "To": HOTLINE,
        "Body": text,
        "NumMedia": "0",
    }
    state["log"].append({"who": "you", "text": text})
    try:
        for el in ET.fromstring(_post("/twilio/sms", form)).iter("Message"):  # noqa: S314 - our own TwiML
            state["log"].append({"who": "hotline", "text": el.text or ""})
    except ET.ParseError:
        state["log"].append({"who": "system", "text": _("No answer.")})
    _save(state)
    return redirect("/dev/phone")


@bp.post("/phone/call")
def phone_call():
    state = _load()
    state["caller"] = (request.form.get("caller") or DEFAULT_CALLER).strip()[:20]
    if state.get("call"):
        _end_call(state)
    state["call"] = {"sid": "CA" + secrets.token_hex(16)}
    state["log"].append({"who": "system", "text": _("Calling 18001769…")})
    _read_voice(state, _post("/twilio/voice", _call_form(state, CallStatus="ringing")))
    _save(state)
    return redirect("/dev/phone")


@bp.post("/phone/act")
def phone_act():
    """The caller's next move in the call: keys, words, silence, an operator's answer…"""
    state = _load()
    call = state.get("call")
    action = request.form.get("action", "")
    if not call:
        return redirect("/dev/phone")
    if action == "hangup":
        _end_call(state)
    elif action in ("keys", "speech") and call.get("gather"):
        value = (request.form.get("value") or "")[: 40 if action == "keys" else 300]
        field = "Digits" if action == "keys" else "SpeechResult"
        state["log"].append({"who": "you", "text": value})
        _read_voice(state, _post(call["gather"], _call_form(state, **{field: value})))
    elif action == "silence" and call.get("redirect"):
        state["log"].append({"who": "you", "text": "…"})
        _read_voice(state, _post(call["redirect"], _call_form(state)))
    elif action == "silence" and call.get("gather"):
        state["log"].append({"who": "you", "text": "…"})
        _end_call(state)
    elif action in ("answered", "no-answer") and call.get("dial"):
        extra = {"DialCallStatus": "completed" if action == "answered" else "no-answer"}
        if action == "answered":
            leg = {
                "CallSid": "CA" + secrets.token_hex(16),
                "ParentCallSid": call["sid"],
                "CallStatus": "in-progress",
                "To": (call.get("numbers") or [""])[0],
            }
            _post("/twilio/status", leg)
            state["log"].append({"who": "system", "text": _("An operator answered.")})
            extra["DialCallDuration"] = "30"
        _read_voice(state, _post(call["dial"], _call_form(state, **extra)))
    elif action == "voicemail" and call.get("record"):
        form = _call_form(
            state,
            RecordingUrl="https://api.twilio.com/dev-recording",
            RecordingSid="RE" + secrets.token_hex(16),
            RecordingDuration="12",
        )
        state["log"].append({"who": "you", "text": _("(a short voicemail)")})
        _read_voice(state, _post(call["record"], form))
    _save(state)
    return redirect("/dev/phone")


@bp.post("/phone/reset")
def phone_reset():
    state = _load()
    if state.get("call"):
        _end_call(state)
    state["log"] = []
    _save(state)
    return redirect("/dev/phone")
