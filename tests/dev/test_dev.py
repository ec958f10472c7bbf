"""Development pages: the outbox and a phone that plays a caller through the real webhooks."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.telephony.outbound import send_sms
from models import Case, Contact, db
from tests.webclient import csrf_of
from tests.webhooks import drain_journal


@pytest.fixture
def dev(app, directory):
    return app.test_client()


def csrf(client) -> dict[str, str]:
    return {"csrf_token": csrf_of(client)}


def test_outbox_lists_messages_sent_without_twilio(dev):
    send_sms("+84900100001", "Xin chào từ dev")
    db.session.commit()
    page = dev.get("/dev/outbox").get_data(as_text=True)
    assert "Xin chào từ dev" in page


def test_dev_phone_sms_goes_through_the_signed_webhook(dev):
    dev.get("/dev/phone")
    response = dev.post(
        "/dev/phone/sms",
        data={"caller": "0900777123", "text": "em ở Tiên Yên", **csrf(dev)},
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "113" in page
    drain_journal(dev.application)  # the dev server's worker does this within 0.1 s
    assert db.session.scalars(select(Case)).one().channel == "sms"


def test_dev_phone_places_a_call_and_presses_keys(dev):
    dev.get("/dev/phone")
    dev.post("/dev/phone/call", data={"caller": "+84900777123", **csrf(dev)})
    response = dev.post(
        "/dev/phone/act",
        data={"action": "keys", "value": "1", **csrf(dev)},
        follow_redirects=True,
    )
    assert response.status_code == 200
    contact = db.session.scalars(select(Contact)).one()
    assert contact.channel == "voice" and contact.ivr_step == "ringing"
    dev.post("/dev/phone/act", data={"action": "no-answer", **csrf(dev)})
    dev.post("/dev/phone/act", data={"action": "voicemail", **csrf(dev)})
    db.session.expire_all()
    contact = db.session.scalars(select(Contact)).one()
    assert contact.callback_requested and contact.recording_seconds == 12
    assert contact.status == "voicemail"


def test_dev_pages_do_not_exist_in_production(app, dev):
    app.config["HOTLINE_ENV"] = "production"
    try:
        assert dev.get("/dev/outbox").status_code == 404
        assert dev.get("/dev/phone").status_code == 404
        assert dev.post("/dev/phone/sms", data={"text": "x"}).status_code in (400, 404)
    finally:
        app.config["HOTLINE_ENV"] = "test"


def test_dev_phone_plays_the_operator_screen_and_a_cold_transfer(dev):
    from models import CallLeg, Referral, User

    db.session.execute(db.update(User).values(on_duty=False))
    operator = db.session.scalar(select(User).where(User.role == "operator"))
    operator.on_duty = True
    db.session.commit()
    phone = operator.phone
    dev.get("/dev/phone")
    dev.post("/dev/phone/call", data={"caller": "+84900777123", **csrf(dev)})
    dev.post("/dev/phone/act", data={"action": "keys", "value": "1", **csrf(dev)})
    page = dev.post(
        "/dev/phone/act",
        data={"action": "op-answer", "value": phone, **csrf(dev)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert 'name="action" value="op-key"' in page  # the operator's keys after the whisper
    # A wrong key hangs up that phone only; the caller still rings.
    dev.post("/dev/phone/act", data={"action": "op-key", "value": "2", **csrf(dev)})
    db.session.expire_all()
    assert db.session.scalars(select(Contact)).one().answered_at is None
    dev.post("/dev/phone/act", data={"action": "op-answer", "value": phone, **csrf(dev)})
    dev.post("/dev/phone/act", data={"action": "op-key", "value": "1", **csrf(dev)})
    db.session.expire_all()
    contact = db.session.scalars(select(Contact)).one()
    assert contact.answered_by_id == operator.id
    page = dev.get("/dev/phone").get_data(as_text=True)
    assert 'name="service_point"' in page
    dev.post(
        "/dev/phone/act",
        data={
            "action": "transfer",
            "service_point": "DEMO-DCTC-06895",
            "mode": "cold",
            **csrf(dev),
        },
    )
    db.session.expire_all()
    (leg,) = db.session.scalars(select(CallLeg)).all()
    assert leg.sid and leg.status == "ringing"
    dev.post("/dev/phone/act", data={"action": "point-answer", **csrf(dev)})
    db.session.expire_all()
    assert db.session.get(CallLeg, leg.id).status == "answered"
    assert db.session.get(User, operator.id).availability == "available"  # left: free again
    assert db.session.scalars(select(Referral)).all() == []  # no case was filed on this call


def test_dev_phone_holds_the_caller_and_a_key_leads_to_voicemail(dev):
    from models import User

    db.session.execute(db.update(User).values(on_duty=False))
    operator = db.session.scalar(select(User).where(User.role == "operator"))
    operator.on_duty = True
    db.session.commit()
    db.session.get(User, operator.id).availability = "busy"
    db.session.commit()
    dev.get("/dev/phone")
    dev.post("/dev/phone/call", data={"caller": "+84900777123", **csrf(dev)})
    dev.post("/dev/phone/act", data={"action": "keys", "value": "1", **csrf(dev)})
    db.session.expire_all()
    assert db.session.scalars(select(Contact)).one().ivr_step == "queued"
    page = dev.post(
        "/dev/phone/act",
        data={"action": "keys", "value": "5", **csrf(dev)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert 'value="voicemail"' in page
    dev.post("/dev/phone/act", data={"action": "voicemail", **csrf(dev)})
    db.session.expire_all()
    contact = db.session.scalars(select(Contact)).one()
    assert contact.callback_requested and contact.status == "voicemail"
    assert contact.abandoned_step is None
