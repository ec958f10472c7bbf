"""``POST /zalo/webhook``: the signature first, journal first, idempotent on msg_id."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from hotline.phones import public_phone
from hotline.privacy import number_hash
from models import Case, Contact, DevOutboxMessage, InboundJournal, Message, Referral, db
from tests.conftest import config
from tests.webhooks import drain_journal
from tests.zalo.conftest import USER, zalo_signature


def count(model) -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(model))


def test_an_event_signed_as_zalo_signs_is_recorded(zalo, ctx):
    response = zalo.text("xin chào", "m-1", process=False)
    assert response.status_code == 200
    entry = db.session.scalars(select(InboundJournal)).one()
    assert (entry.provider, entry.provider_sid, entry.channel) == ("zalo", "m-1", "zalo")
    assert entry.sender == USER and entry.sender_hash == number_hash("zalo:" + USER)


def test_a_wrong_or_missing_signature_is_refused_and_nothing_is_stored(zalo, ctx):
    payload = zalo.event("user_send_text", {"msg_id": "m-2", "text": "Tiên Yên"})
    body = json.dumps(payload).encode()
    wrong_secret = "mac=" + "0" * 64
    other_app = zalo_signature(body, payload["timestamp"], app_id="999")
    other_time = zalo_signature(body, "1")
    for signature in (wrong_secret, other_app, other_time):
        assert zalo.post(body, signature=signature).status_code == 403
    unsigned = zalo.client.post("/zalo/webhook", data=body, content_type="application/json")
    assert unsigned.status_code == 403
    assert count(InboundJournal) == 0 and count(Message) == 0


def test_without_the_oa_secret_key_the_endpoint_does_not_exist(zalo, app):
    with config(app, ZALO_OA_SECRET_KEY=None):
        response = zalo.text("xin chào", "m-3", process=False)
    assert response.status_code == 404
    with app.app_context():
        assert count(InboundJournal) == 0


def test_a_redelivered_msg_id_makes_one_message_and_one_case(zalo, directory):
    for _ in range(3):
        assert zalo.text("Cứu em với, em đang ở xã Tiên Yên", "m-dup").status_code == 200
    assert count(InboundJournal) == 1
    assert count(Case) == 1
    inbound = db.session.scalars(select(Message).where(Message.direction == "in")).all()
    assert [m.provider_sid for m in inbound] == ["m-dup"]


def test_a_place_routes_a_case_stored_as_other_with_a_zalo_conversation(zalo, directory):
    zalo.text("Cứu em với, em đang ở xã Tiên Yên", "m-4")
    case = db.session.scalars(select(Case)).one()
    contact = db.session.get(Contact, case.contact_id)
    assert case.channel == "other"
    assert (contact.channel, contact.provider, contact.status) == ("zalo", "zalo", "routed")
    assert contact.caller_number == USER
    reply = db.session.scalars(select(Message).where(Message.direction == "out")).one()
    point = db.session.scalars(select(Referral)).one().service_point
    assert "113" in reply.body and public_phone(point.phone) in reply.body
    # Zalo's webhook answer cannot carry the reply: the worker sends it.
    assert reply.status == "pending"


def test_the_reply_is_sent_by_the_worker_to_the_dev_outbox_without_a_zalo_api(
    zalo, directory, run_burst
):
    zalo.text("em ở Bãi Cháy", "m-5")
    run_burst()
    sent = db.session.scalars(select(DevOutboxMessage)).one()
    assert sent.to == "zalo:" + USER
    reply = db.session.scalars(select(Message).where(Message.direction == "out")).one()
    assert reply.status == "sent" and reply.body == sent.body


def test_an_image_or_sticker_is_counted_and_asked_for_the_place(zalo, directory):
    zalo.send("user_send_image", {"msg_id": "m-6", "attachments": [{"type": "image"}]})
    zalo.send("user_send_sticker", {"msg_id": "m-7", "attachments": [{"type": "sticker"}]})
    inbound = db.session.scalars(
        select(Message).where(Message.direction == "in").order_by(Message.id)
    ).all()
    assert [m.media_count for m in inbound] == [1, 1]
    assert count(Case) == 0
    first = db.session.scalars(
        select(Message).where(Message.direction == "out").order_by(Message.id)
    ).first()
    assert "113" in first.body


def test_a_shared_location_is_not_kept_and_the_place_is_asked(zalo, directory):
    location = {
        "msg_id": "m-8",
        "attachments": [
            {
                "type": "location",
                "payload": {"coordinates": {"latitude": "21.3328", "longitude": "107.5967"}},
            }
        ],
    }
    assert zalo.send("user_send_location", location).status_code == 200
    entry = db.session.scalars(select(InboundJournal)).one()
    assert entry.decision["step"] == "ask" and entry.media_count == 1
    assert "21.33" not in (entry.body or "") and "21.33" not in json.dumps(entry.decision)
    assert count(Case) == 0


def test_delivery_and_seen_events_update_the_reply_status(zalo, directory):
    zalo.text("em ở Bãi Cháy", "m-9")
    reply = db.session.scalars(select(Message).where(Message.direction == "out")).one()
    reply.provider_sid, reply.status = "zalo-out-1", "sent"
    reply_id = reply.id
    db.session.commit()
    received = zalo.event("user_received_message", {"msg_ids": ["zalo-out-1"]})
    assert zalo.post(received).status_code == 200
    db.session.remove()
    assert db.session.get(Message, reply_id).status == "delivered"
    zalo.post(zalo.event("user_seen_message", {"msg_ids": ["zalo-out-1"]}))
    db.session.remove()
    assert db.session.get(Message, reply_id).status == "read"


def test_follow_is_acknowledged_and_stores_nothing(zalo, ctx):
    response = zalo.post(zalo.event("follow", follower={"id": USER}))
    assert response.status_code == 200
    assert count(InboundJournal) == 0 and count(Contact) == 0


def test_a_message_processed_twice_by_the_worker_still_makes_one_of_each(zalo, directory, app):
    zalo.text("em ở Bãi Cháy", "m-10", process=False)
    drain_journal(app)
    drain_journal(app)
    assert count(Contact) == 1 and count(Case) == 1 and count(Message) == 2
