"""The development phone plays a Zalo user too (DESIGN.md section 14).

It builds an OA event as Zalo would (``user_send_text``, signed with ``X-ZEvent-Signature``
from ``ZALO_APP_ID`` and ``ZALO_OA_SECRET_KEY``), posts it to ``/zalo/webhook`` inside this
process, then does at once what the worker would do next — make the conversation from the
journal and send the reply — so the answer shows on the phone. Without a configured Zalo
API the reply goes to the development outbox, like an SMS.
"""

from __future__ import annotations

import json
import secrets
import time

from flask import current_app, redirect, request
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.conversations.journal import process_journal, send_journal_reply
from hotline.dev.phone import _load, _save, bp
from hotline.telephony.zalo.webhook import sign
from models import Contact, InboundJournal, Message, db

DEFAULT_ZALO_USER = "8400000000000000999"
DEV_OA_ID = "1800176900000000000"


@bp.post("/phone/zalo")
def phone_zalo():
    """Send a Zalo message as a user and show the OA's answer."""
    state = _load()
    user = "".join(ch for ch in (request.form.get("zalo_user") or "") if ch.isdigit())[:32]
    state["zalo_user"] = user or state.get("zalo_user") or DEFAULT_ZALO_USER
    text = (request.form.get("text") or "")[:2000]
    state["log"].append({"who": "you", "text": text, "channel": "zalo"})
    cfg = current_app.config
    if not cfg.get("ZALO_OA_SECRET_KEY"):
        state["log"].append(
            {"who": "system", "text": _("Set ZALO_OA_SECRET_KEY to try the Zalo channel.")}
        )
        _save(state)
        return redirect("/dev/phone")
    msg_id = secrets.token_hex(16)
    payload = {
        "app_id": cfg.get("ZALO_APP_ID") or "",
        "event_name": "user_send_text",
        "timestamp": str(int(time.time() * 1000)),
        "sender": {"id": state["zalo_user"]},
        "recipient": {"id": DEV_OA_ID},
        "message": {"msg_id": msg_id, "text": text},
    }
    body = json.dumps(payload, ensure_ascii=False).encode()
    signature = sign(body, payload["app_id"], payload["timestamp"], cfg["ZALO_OA_SECRET_KEY"])
    response = current_app.test_client().post(
        "/zalo/webhook",
        data=body,
        headers={"X-ZEvent-Signature": signature},
        content_type="application/json",
    )
    if response.status_code != 200:
        state["log"].append({"who": "system", "text": _("No answer.")})
    else:
        for reply in _replies(msg_id):
            state["log"].append({"who": "hotline", "text": reply, "channel": "zalo"})
    _save(state)
    return redirect("/dev/phone")


def _replies(msg_id: str) -> list[str]:
    """Process the journal and send the replies to this message now (as the worker would)."""
    entry = db.session.scalar(
        select(InboundJournal).where(
            InboundJournal.provider == "zalo", InboundJournal.provider_sid == msg_id
        )
    )
    sender_hash = entry.sender_hash if entry else None
    db.session.rollback()
    process_journal()
    if sender_hash is None:
        return []
    pending = db.session.scalars(
        select(Message.id)
        .join(Contact, Message.contact_id == Contact.id)
        .where(
            Contact.caller_hash == sender_hash,
            Message.direction == "out",
            Message.status == "pending",
        )
        .order_by(Message.id)
    ).all()
    texts = []
    for message_id in pending:
        send_journal_reply(message_id)
        message = db.session.get(Message, message_id)
        texts.append(message.body or "")
    return texts
