"""Development pages: the outbox (SMS the service would have sent) and a phone to play a
caller, and the operators' phones, through the real webhooks.

The operator's side: a rung phone can be answered (it hears the whisper), press 1 (or
another key, or nothing), hang up, and transfer the caller to a service point, whose duty
phone can answer or not; a caller put on hold hears the hold message. Calls the service
would start through Twilio's REST API get made-up ids without Twilio, and the jobs that
start them are run here at once, so the whole call centre can be tried with no account.

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

from hotline.errors import ValidationError
from hotline.telephony.twilio.signature import sign
from models import CallLeg, Contact, DevOutboxMessage, ServicePoint, User, db

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
    call.update(gather=None, redirect=None, dial=None, record=None, numbers=[], whispers={})
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
            conference = el.find("Conference")
            if conference is not None:
                call["conference"] = conference.text
                state["log"].append(
                    {"who": "system", "text": _("In a conference with the service point.")}
                )
                return
            call["dial"] = _path(el.get("action", ""))
            call["numbers"] = [n.text or "" for n in el.iter("Number")]
            call["whispers"] = {n.text or "": _path(n.get("url", "")) for n in el.iter("Number")}
            state["log"].append({"who": "system", "text": _("Operators' phones ring.")})
            return
        elif el.tag == "Enqueue":
            call["queue"] = {
                "wait": _path(el.get("waitUrl", "")),
                "action": _path(el.get("action", "")),
            }
            state["log"].append({"who": "system", "text": _("On hold.")})
            _read_voice(state, _post(call["queue"]["wait"], _call_form(state, QueueTime="0")))
            return
        elif el.tag == "Leave":
            queue = call.pop("queue", None) or {}
            if queue.get("action"):
                form = _call_form(state, QueueResult="leave")
                _read_voice(state, _post(queue["action"], form))
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
    state = _load()
    points = transfer_points() if (state.get("call") or {}).get("operator") else []
    return render_template("dev/phone.html", state=state, points=points)


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
    elif action == "no-answer" and call.get("dial"):
        _read_voice(state, _post(call["dial"], _call_form(state, DialCallStatus="no-answer")))
    elif action == "answered" and call.get("dial"):
        # Shortcut: the first rung phone answers and its operator presses 1.
        _operator_answers(state, (call.get("numbers") or [""])[0])
        _operator_keys(state, "1")
    elif action == "op-answer" and call.get("dial"):
        _operator_answers(state, request.form.get("value", ""))
    elif action == "op-key" and call.get("operator"):
        _operator_keys(state, (request.form.get("value") or "")[:4])
    elif action == "op-hangup" and call.get("operator"):
        _operator_hangs_up(state)
    elif action == "transfer" and call.get("operator"):
        _transfer(state, request.form.get("service_point"), request.form.get("mode"))
    elif action in ("point-answer", "point-no-answer") and call.get("point_sid"):
        _point_answers(state, action == "point-answer")
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


# --------------------------------------------------------------------------------------------
# The operator's side


def _operator_answers(state: dict[str, Any], number: str) -> None:
    """A rung phone picks up: its operator hears the whisper."""
    call = state["call"]
    url = (call.get("whispers") or {}).get(number)
    if not url:
        return
    leg = "CA" + secrets.token_hex(16)
    form = {**_call_form(state), "CallSid": leg, "ParentCallSid": call["sid"], "To": number}
    root = ET.fromstring(_post(url, form))  # noqa: S314 - our own TwiML
    gather = root.find("Gather")
    for say in root.iter("Say"):
        state["log"].append({"who": "operator-hears", "text": say.text or ""})
    call["operator"] = {
        "sid": leg,
        "number": number,
        "gather": _path(gather.get("action", "")) if gather is not None else None,
        "connected": False,
    }


def _operator_keys(state: dict[str, Any], digits: str) -> None:
    """The operator's key after the whisper: 1 connects; anything else hangs up that phone."""
    call = state["call"]
    op = call.get("operator") or {}
    if not op.get("gather"):
        return
    form = {
        **_call_form(state),
        "CallSid": op["sid"],
        "ParentCallSid": call["sid"],
        "To": op["number"],
        "Digits": digits,
    }
    root = ET.fromstring(_post(op["gather"], form))  # noqa: S314 - our own TwiML
    state["log"].append({"who": "operator", "text": digits or "…"})
    if root.find("Hangup") is None:
        op.update(connected=True, gather=None)
        state["log"].append({"who": "system", "text": _("An operator answered.")})
    else:
        call["operator"] = None
        state["log"].append({"who": "system", "text": _("That operator's phone hung up.")})


def _operator_hangs_up(state: dict[str, Any]) -> None:
    call = state["call"]
    op = call.pop("operator")
    leg = {"CallSid": op["sid"], "ParentCallSid": call["sid"], "CallStatus": "completed"}
    _post("/twilio/status", {**leg, "To": op["number"]})
    state["log"].append({"who": "system", "text": _("The operator hung up.")})
    if call.get("dial"):
        form = _call_form(state, DialCallStatus="completed", DialCallDuration="60")
        _read_voice(state, _post(call["dial"], form))


def _transfer(state: dict[str, Any], code: object, mode: object) -> None:
    """The operator transfers the caller (as the board or the API would); the jobs that
    call the point run here at once."""
    from hotline.conversations import calls
    from hotline.jobs import registry

    call = state["call"]
    contact = db.session.scalar(select(Contact).where(Contact.provider_sid == call["sid"]))
    operator = db.session.get(User, contact.answered_by_id) if contact else None
    try:
        leg = calls.request_transfer(operator, call["sid"], code, mode)  # type: ignore[arg-type]
    except (calls.NotTheOperatorsCall, ValidationError):
        db.session.rollback()
        state["log"].append({"who": "system", "text": _("That transfer is not possible.")})
        return
    db.session.commit()
    registry.get(calls.TRANSFER_JOB).fn(leg_id=leg.id)
    db.session.refresh(leg)
    call["point_sid"] = leg.sid
    state["log"].append({"who": "system", "text": _("The service point's duty phone rings.")})
    if call.get("dial"):
        form = _call_form(state, DialCallStatus="completed")
        _read_voice(state, _post(call["dial"], form))


def _point_answers(state: dict[str, Any], answered: bool) -> None:
    from hotline.conversations import calls
    from hotline.jobs import registry

    call = state["call"]
    sid = call.pop("point_sid")
    status = "in-progress" if answered else "no-answer"
    _post("/twilio/status", {"CallSid": sid, "CallStatus": status})
    if not answered:
        state["log"].append({"who": "system", "text": _("The service point did not answer.")})
        return
    state["log"].append({"who": "system", "text": _("The service point answered.")})
    leg = db.session.scalar(select(CallLeg).where(CallLeg.sid == sid))
    if leg is not None and leg.mode == "cold":
        registry.get(calls.LEAVE_JOB).fn(leg_id=leg.id)
        _post(
            "/twilio/status",
            {
                "CallSid": call["operator"]["sid"],
                "ParentCallSid": call["sid"],
                "CallStatus": "completed",
                "To": call["operator"]["number"],
            },
        )
        call["operator"] = None
        state["log"].append({"who": "system", "text": _("The operator left the call.")})


def transfer_points() -> list[ServicePoint]:
    return list(
        db.session.scalars(
            select(ServicePoint)
            .where(ServicePoint.active.is_(True), ServicePoint.alert_phone.is_not(None))
            .order_by(ServicePoint.name)
            .limit(300)
        )
    )


@bp.post("/phone/reset")
def phone_reset():
    state = _load()
    if state.get("call"):
        _end_call(state)
    state["log"] = []
    _save(state)
    return redirect("/dev/phone")
