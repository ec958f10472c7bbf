"""Outbound SMS through the real twilio client to a local fake of Twilio's REST API."""

from __future__ import annotations

import pytest

from hotline.privacy import number_hash
from hotline.telephony import SendError
from hotline.telephony.outbound import send_sms
from models import DevOutboxMessage, OptOut, db


def test_sms_goes_to_twilio_with_a_status_callback(fake_twilio, ctx):
    result = send_sms("+84900100001", "Xin chào")
    (request,) = fake_twilio.messages
    assert request.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert request.form["To"] == "+84900100001"
    assert request.form["Body"] == "Xin chào"
    assert request.form["From"] == "+18005550100"
    assert request.form["StatusCallback"] == "https://hotline.test/twilio/status"
    assert result.sid == request.sid and result.provider == "twilio"


def test_messaging_service_sid_is_used_as_sender(fake_twilio, app, ctx):
    app.config["TWILIO_SMS_FROM"] = "MG" + "1" * 32
    send_sms("+84900100001", "x")
    form = fake_twilio.messages[0].form
    assert form["MessagingServiceSid"] == "MG" + "1" * 32 and "From" not in form


def test_provider_error_is_temporary_and_invalid_number_is_permanent(fake_twilio, ctx):
    fake_twilio.fail_next(500, 20500)
    with pytest.raises(SendError) as exc:
        send_sms("+84900100001", "x")
    assert exc.value.permanent is False
    fake_twilio.fail_next(400, 21211)
    with pytest.raises(SendError) as exc:
        send_sms("+84900100001", "x")
    assert (exc.value.permanent, exc.value.code) == (True, "21211")
    fake_twilio.fail_next(429, 20429)
    with pytest.raises(SendError) as exc:
        send_sms("+84900100001", "x")
    assert exc.value.permanent is False


def test_unreachable_provider_is_a_temporary_error(fake_twilio, app, ctx, unused_port):
    app.config["TWILIO_API_BASE_URL"] = f"http://127.0.0.1:{unused_port}"
    with pytest.raises(SendError) as exc:
        send_sms("+84900100001", "x")
    assert exc.value.permanent is False


def test_opted_out_number_is_never_sent_to(fake_twilio, ctx):
    db.session.add(OptOut(number_hash=number_hash("+84900100001"), opted_out=True))
    db.session.commit()
    with pytest.raises(SendError) as exc:
        send_sms("+84900100001", "x")
    assert exc.value.permanent is True
    assert fake_twilio.requests == []


def test_without_twilio_messages_land_in_the_dev_outbox(ctx):
    result = send_sms("+84900100001", "Xin chào")
    db.session.commit()
    row = db.session.scalars(db.select(DevOutboxMessage)).one()
    assert (row.sid, row.to, row.body) == (result.sid, "+84900100001", "Xin chào")
