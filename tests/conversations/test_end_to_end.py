"""Whole conversations through the signed webhooks, with a real worker process draining
the outbox to the fake Twilio API over HTTP."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import select

from hotline.phones import public_phone
from models import Alert, Case, Contact, Message, OutboxItem, Referral, User, db
from tests.webhooks import CALLER, reply_text, spoken, xml

pytestmark = pytest.mark.slow


@pytest.fixture
def run_worker(run_burst):
    """One burst of the worker, then a fresh session to see what it stored."""

    def run() -> subprocess.CompletedProcess:
        result = run_burst()
        db.session.remove()
        return result

    return run


def test_complete_sms_conversation_routes_alerts_once_and_never_texts_the_caller(
    fake_twilio, twilio, directory, run_worker
):
    first = reply_text(twilio.sms("Chị ơi cứu em với", "SM" + "1" * 32))
    assert "113" in first
    assert db.session.scalar(select(Case.id)) is None
    second = reply_text(twilio.sms("em đang ở xã Tiên Yên", "SM" + "2" * 32))
    twilio.sms("em đang ở xã Tiên Yên", "SM" + "2" * 32)  # Twilio retried

    case = db.session.scalars(select(Case)).one()
    referral = db.session.scalars(select(Referral)).one()
    point = referral.service_point
    assert point.name in second and public_phone(point.phone) in second
    alert = db.session.scalars(select(Alert)).one()
    work = db.session.scalars(select(OutboxItem).where(OutboxItem.job == "alerts.send")).one()
    assert work.payload == {"alert_id": alert.id} and work.queue == "alerts"
    contact = db.session.get(Contact, case.contact_id)
    assert [m.direction for m in contact.messages] == ["in", "out", "in", "out"]

    run_worker()
    run_worker()

    assert [m.form["To"] for m in fake_twilio.messages] == [point.alert_phone]
    body = fake_twilio.messages[0].form["Body"]
    assert case.reference in body
    assert "900777123" not in body and "cứu" not in body
    assert all(m.form["To"] != CALLER for m in fake_twilio.messages)
    sid = fake_twilio.messages[0].sid
    assert twilio.status(MessageSid=sid, MessageStatus="delivered").status_code == 204
    alert = db.session.get(Alert, alert.id)
    assert alert.provider_sid == sid
    assert alert.status in ("delivered", "acknowledged")


def test_complete_voice_path_with_voicemail_notifies_operators(
    fake_twilio, twilio, directory, run_worker
):
    sid = "CA" + "7" * 32
    operator_phone = db.session.scalars(
        select(User.phone).where(User.role == "operator", User.on_duty.is_(True))
    ).one()
    root = xml(twilio.call(sid))
    menu = root.find("Gather").get("action")
    root = xml(twilio.step(menu, sid, Digits="2"))
    place = root.find("Gather")
    assert place.get("language") == "vi-VN"
    root = xml(twilio.step(place.get("action"), sid, Digits="6#"))
    communes = root.find("Gather")  # the district's communes are read out, with their keys
    assert "Tiên Yên, bấm 1" in spoken(communes) and "bấm 0" in spoken(communes)
    root = xml(twilio.step(communes.get("action"), sid, Digits="0"))  # the whole district
    after = root.find("Gather")
    assert "0 9 0 0" in spoken(after) or "1 1 3" in spoken(after)
    root = xml(twilio.step(after.get("action"), sid, Digits="1"))
    dial = root.find("Dial")
    assert [n.text for n in dial.findall("Number")] == [operator_phone]
    root = xml(twilio.step(dial.get("action"), sid, DialCallStatus="no-answer"))
    record = root.find("Record")
    root = xml(
        twilio.step(
            record.get("action"),
            sid,
            RecordingUrl="https://api.twilio.com/rec/RE1",
            RecordingSid="RE" + "1" * 32,
            RecordingDuration="9",
        )
    )
    assert root.find("Hangup") is not None
    twilio.status(CallSid=sid, CallStatus="completed", CallDuration="95")

    run_worker()

    contact = db.session.scalars(select(Contact)).one()
    assert contact.status == "voicemail" and contact.callback_requested
    assert contact.duration_seconds == 95 and contact.district_code == "199"
    assert db.session.scalar(select(Message.id)) is None
    texts = [m for m in fake_twilio.messages if m.form["To"] == operator_phone]
    assert len(texts) == 1
    assert "900777123" not in texts[0].form["Body"]
