"""Delivery status callbacks land on the message, alert or follow-up sent with that id."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline.cases.intake import CaseInput, create_case
from models import Alert, Contact, FollowUp, Message, db
from models.types import utcnow


@pytest.fixture
def alert(directory):
    case, _ = create_case(
        CaseInput(channel="sms", risk="high", consent_referral=True), actor="test", place=None
    )
    db.session.flush()
    row = db.session.scalars(select(Alert)).first()
    row.provider_sid, row.status = "SM" + "a" * 32, "sent"
    db.session.add(
        FollowUp(
            case_id=case.id,
            kind="day3",
            channel="sms",
            due_at=utcnow() + timedelta(days=3),
            provider_sid="SM" + "b" * 32,
            status="sent",
        )
    )
    contact = Contact(channel="sms", provider="twilio", status="open")
    db.session.add(contact)
    db.session.flush()
    db.session.add(
        Message(
            contact_id=contact.id,
            direction="out",
            provider="twilio",
            provider_sid="SM" + "c" * 32,
            status="queued",
        )
    )
    db.session.commit()
    return row


def test_delivery_reports_update_alert_follow_up_and_message(twilio, alert):
    for sid, status in (("a", "delivered"), ("b", "undelivered"), ("c", "sent")):
        fields = {"MessageSid": "SM" + sid * 32, "MessageStatus": status}
        if status == "undelivered":
            fields["ErrorCode"] = "30003"
        assert twilio.status(**fields).status_code == 204
    db.session.expire_all()
    assert db.session.get(Alert, alert.id).status == "delivered"
    follow_up = db.session.scalars(select(FollowUp)).one()
    assert (follow_up.status, follow_up.error_code) == ("undelivered", "30003")
    message = db.session.scalars(select(Message)).one()
    assert message.status == "sent"


def test_a_late_sent_report_does_not_undo_delivered(twilio, alert):
    twilio.status(MessageSid="SM" + "a" * 32, MessageStatus="delivered")
    twilio.status(MessageSid="SM" + "a" * 32, MessageStatus="sent")
    db.session.expire_all()
    assert db.session.get(Alert, alert.id).status == "delivered"


def test_acknowledged_alert_keeps_its_status_but_records_the_error(twilio, alert):
    alert.status = "acknowledged"
    db.session.commit()
    twilio.status(MessageSid="SM" + "a" * 32, MessageStatus="failed", ErrorCode="21610")
    db.session.expire_all()
    row = db.session.get(Alert, alert.id)
    assert (row.status, row.error_code) == ("acknowledged", "21610")


def test_unknown_sid_is_accepted_and_nothing_stored(twilio, alert):
    before = db.session.scalar(select(func.count()).select_from(Message))
    for fields in (
        {"MessageSid": "SM" + "z" * 32, "MessageStatus": "delivered"},
        {"CallSid": "CA" + "z" * 32, "CallStatus": "completed"},
        {},
        {"MessageSid": "SM" + "a" * 32, "MessageStatus": "💥"},
    ):
        assert twilio.status(**fields).status_code == 204
    assert db.session.scalar(select(func.count()).select_from(Message)) == before
    db.session.expire_all()
    assert db.session.get(Alert, alert.id).status == "sent"
