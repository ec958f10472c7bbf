"""The SMS conversation through Twilio's webhook: acknowledgement, place, case, keywords."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, text

from hotline.conversations.sms import keyword
from hotline.phones import public_phone
from hotline.privacy import number_hash
from hotline.telephony.segments import segments
from models import Alert, Case, Contact, Message, OptOut, OutboxItem, Referral, db
from tests.webhooks import CALLER, reply_text, xml

FORBIDDEN = ("bạo lực", "violence", "shelter", "nhà tạm lánh", "tạm lánh")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def assert_neutral(reply: str) -> None:
    lowered = reply.lower()
    assert not any(word in lowered for word in FORBIDDEN), reply


def test_first_message_with_a_place_creates_a_routed_case_and_names_113(twilio, directory):
    response = twilio.sms("Cứu em với, em đang ở xã Tiên Yên", "SM" + "1" * 32)
    assert response.status_code == 200
    reply = reply_text(response)
    assert "113" in reply
    case = db.session.scalars(select(Case)).one()
    assert (case.channel, case.risk, case.consent_referral) == ("sms", "high", True)
    assert case.consent_follow_up is False and case.consent_reporting is False
    referral = db.session.scalars(select(Referral)).one()
    point = referral.service_point
    assert point.name in reply and public_phone(point.phone) in reply
    assert point.kind != "shelter"
    alert = db.session.scalars(select(Alert)).one()
    assert alert.to_phone == point.alert_phone
    work = db.session.scalars(select(OutboxItem)).one()
    assert (work.job, work.payload) == ("alerts.send", {"alert_id": alert.id})
    contact = db.session.get(Contact, case.contact_id)
    assert contact.channel == "sms" and contact.status == "routed"
    assert contact.caller_number == CALLER and contact.caller_hash == number_hash(CALLER)
    assert [m.direction for m in contact.messages] == ["in", "out"]
    assert_neutral(reply.replace(point.name, ""))


def test_retry_of_same_message_sid_answers_the_same_and_creates_nothing(twilio, directory):
    sid = "SM" + "2" * 32
    first = twilio.sms("em ở Bãi Cháy", sid)
    counts = [count(m) for m in (Contact, Message, Case, Alert, OutboxItem)]
    again = twilio.sms("em ở Bãi Cháy", sid)
    token = twilio.post(
        "/twilio/sms",
        {"MessageSid": sid, "From": CALLER, "To": "+1", "Body": "em ở Bãi Cháy"},
        headers={"I-Twilio-Idempotency-Token": "retry-1"},
    )
    assert again.get_data() == first.get_data() == token.get_data()
    assert [count(m) for m in (Contact, Message, Case, Alert, OutboxItem)] == counts
    assert count(Case) == 1


def test_unknown_place_is_asked_once_then_answer_routes(twilio, directory):
    first = reply_text(twilio.sms("Chị ơi cứu em", "SM" + "a" * 32))
    assert "113" in first and "?" in first
    assert count(Case) == 0 and count(Alert) == 0
    second = reply_text(twilio.sms("Tiên Yên", "SM" + "b" * 32))
    assert count(Case) == 1
    point = db.session.scalars(select(Referral)).one().service_point
    assert point.name in second or public_phone(point.phone) in second
    assert count(Contact) == 1


def test_ambiguous_place_is_asked_with_the_candidates_and_a_number_picks_one(twilio, directory):
    reply = reply_text(twilio.sms("em ở Bắc Sơn", "SM" + "c" * 32))
    assert "Bắc Sơn" in reply and "?" in reply
    assert count(Case) == 0
    contact = db.session.scalars(select(Contact)).one()
    offered = contact.pending_places
    assert len(offered) >= 2
    twilio.sms("1", "SM" + "d" * 32)
    case = db.session.scalars(select(Case)).one()
    assert case.commune_code in offered[0]["commune_codes"]


def test_after_two_unanswered_asks_the_provincial_centre_takes_the_case(twilio, directory):
    for n, body in enumerate(("giúp em", "không biết", "ở nhà")):
        reply = reply_text(twilio.sms(body, f"SM{n:032d}"))
        if n < 2:
            assert count(Case) == 0
    case = db.session.scalars(select(Case)).one()
    point = db.session.scalars(select(Referral)).one().service_point
    assert point.commune_code is None and point.district_code is None  # province-wide
    assert public_phone(point.phone) in reply
    assert case.commune_code is None


def test_an_unanswered_place_question_hands_the_case_to_the_provincial_centre(twilio, directory):
    from hotline.conversations.jobs import place_question_timeout

    twilio.sms("cứu em", "SM" + "g" * 32)
    timer = db.session.scalars(
        select(OutboxItem).where(OutboxItem.job == "conversations.place_timeout")
    ).one()
    contact = db.session.scalars(select(Contact)).one()
    assert timer.payload == {"contact_id": contact.id, "asks": 1}
    assert timer.available_at > contact.started_at
    assert place_question_timeout(**timer.payload) is True
    assert place_question_timeout(**timer.payload) is False
    point = db.session.scalars(select(Referral)).one().service_point
    assert point.commune_code is None and point.district_code is None
    assert count(Case) == 1


def test_a_place_question_answered_in_time_cancels_the_timeout(twilio, directory):
    from hotline.conversations.jobs import place_question_timeout

    twilio.sms("cứu em", "SM" + "h" * 32)
    twilio.sms("Tiên Yên", "SM" + "i" * 32)
    contact = db.session.scalars(select(Contact)).one()
    assert place_question_timeout(contact_id=contact.id, asks=1) is False
    assert count(Case) == 1


def test_later_messages_in_a_routed_conversation_create_no_second_case(twilio, directory):
    twilio.sms("em ở Tiên Yên", "SM" + "e" * 32)
    reply = reply_text(twilio.sms("cảm ơn", "SM" + "f" * 32))
    assert "113" in reply
    assert count(Case) == 1 and count(Contact) == 1


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("STOP", "stop"),
        ("stop", "stop"),
        ("Dừng", "stop"),
        ("DỪNG", "stop"),
        ("dung", "stop"),
        ("HỦY", "stop"),
        ("huỷ", "stop"),
        ("huy", "stop"),
        (" Stop. ", "stop"),
        ("START", "start"),
        ("bắt đầu", "start"),
        ("HELP", "help"),
        ("giúp", "help"),
        ("GIUP", "help"),
        ("đúng", None),
        ("dùng", None),
        ("stop it now please", None),
        ("", None),
    ],
)
def test_keywords_match_with_or_without_diacritics_but_not_other_words(word, expected):
    assert keyword(word) == expected


def test_stop_opts_out_until_start(twilio, directory):
    reply = reply_text(twilio.sms("DỪNG", "SM" + "1" * 31 + "0"))
    assert "START" in reply
    assert db.session.get(OptOut, number_hash(CALLER)).opted_out is True
    assert count(Case) == 0
    from hotline.telephony import SendError
    from hotline.telephony.outbound import send_sms

    with pytest.raises(SendError):
        send_sms(CALLER, "x")
    twilio.sms("START", "SM" + "1" * 31 + "2")
    db.session.expire_all()
    assert db.session.get(OptOut, number_hash(CALLER)).opted_out is False


def test_help_names_the_emergency_numbers(twilio, directory):
    reply = reply_text(twilio.sms("HELP", "SM" + "3" * 32))
    assert "113" in reply and "111" in reply
    assert count(Case) == 0


def test_stored_bodies_and_numbers_are_encrypted(twilio, directory):
    twilio.sms("canary-body em ở Tiên Yên", "SM" + "4" * 32)
    raw = db.session.execute(text("SELECT body FROM message")).scalars().all()
    assert all("canary-body" not in (b or "") for b in raw)
    raw_number = db.session.execute(text("SELECT caller_number FROM contact")).scalar()
    assert "900777123" not in raw_number


HOSTILE = [
    {"Body": ""},
    {"Body": "x" * 1600},
    {"Body": "🆘🆘 help 😭 " * 50},
    {"Body": "", "NumMedia": "2", "MediaUrl0": "https://x/1", "MediaUrl1": "https://x/2"},
    {"Body": "Tiên Yên", "From": ""},
    {"Body": "Tiên Yên", "From": "anonymous"},
    {"Body": "Tiên Yên", "From": "+1 (555) <script>"},
    {"Body": "a\x00b Tiên Yên"},
    {"Body": "Tiên Yên", "NumMedia": "banana"},
]


@pytest.mark.parametrize("fields", HOSTILE)
def test_hostile_sms_gets_a_safe_answer_never_a_500(twilio, directory, fields):
    form = {"MessageSid": "SM" + "5" * 32, "From": CALLER, "To": "+1", **fields}
    response = twilio.post("/twilio/sms", form)
    assert response.status_code == 200
    assert "113" in reply_text(response)


def test_message_without_a_sid_is_answered_and_nothing_is_stored(twilio, directory):
    response = twilio.post("/twilio/sms", {"From": CALLER, "Body": "em ở Tiên Yên"})
    assert response.status_code == 200 and "113" in reply_text(response)
    assert count(Contact) == 0 and count(Message) == 0


def test_invalid_utf8_in_the_form_body_gets_a_safe_answer(twilio, app, client, directory):
    raw = b"MessageSid=SM" + b"6" * 32 + b"&From=%2B84900777123&Body=%FF%FE%C3+Ti%C3%AAn+Y%C3%AAn"
    # Sign what the server decodes (invalid bytes replaced), as the signature covers it.
    from werkzeug.datastructures import MultiDict  # noqa: F401

    with app.test_request_context(
        "/twilio/sms", method="POST", data=raw, content_type="application/x-www-form-urlencoded"
    ):
        from flask import request

        decoded = request.form.to_dict()
    signature = twilio.signature("https://hotline.test/twilio/sms", decoded)
    response = client.post(
        "/twilio/sms",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
        base_url="https://hotline.test",
    )
    assert response.status_code == 200
    assert "113" in reply_text(response)


def test_canary_number_and_body_never_reach_the_logs(twilio, directory, caplog):
    canary_number, canary_body = "+84900999111", "canary-body-Nguyễn-Thị-Canary ở Tiên Yên"
    with caplog.at_level(logging.DEBUG):
        twilio.sms(canary_body, "SM" + "7" * 32, sender=canary_number)
        twilio.sms(canary_body, "SM" + "8" * 32, sender=canary_number, Body="DỪNG")
        twilio.post("/twilio/sms", {"From": canary_number, "Body": canary_body})  # wrong sig ok
        twilio.client.post("/twilio/sms", data={"From": canary_number, "Body": canary_body})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "900999111" not in logged and "canary-body" not in logged


REPLIES = {
    "vi": [
        "Đã nhận tin. Nguy hiểm gọi 113. Bạn đang ở xã, phường nào?",
    ],
}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_fixed_replies_fit_one_sms_segment(ctx, lang):
    from flask_babel import force_locale
    from flask_babel import gettext as _

    msgids = [
        "Message received. In danger, call 113.",
        "Which commune or ward are you in?",
        "You will get no more messages. Send START to undo. Danger: call 113.",
        "Messages are on again. In danger, call 113.",
        "Hotline 18001769. In danger, call 113. Children: 111.",
        "In danger, call 113. Children: 111. Hotline 18001769.",
        "Please call hotline 18001769.",
    ]
    with force_locale(lang):
        first_ask = (
            _("Message received. In danger, call 113.")
            + " "
            + _("Which commune or ward are you in?")
        )
        routed = _(
            "Danger: call 113. Contact %(name)s: %(phone)s",
            name="Địa chỉ tin cậy xã Tiên Yên",
            phone="0203 3876 123",
        )
        texts = [_(m) for m in msgids] + [first_ask, routed]
    for t in texts:
        assert segments(t) == 1, (t, len(t))


def test_reply_segments_are_measured_and_stored(twilio, directory):
    twilio.sms("em ở Tiên Yên", "SM" + "9" * 32)
    out = db.session.scalars(select(Message).where(Message.direction == "out")).one()
    assert out.segments == segments(out.body)
    assert out.segments <= 2
    assert xml  # parsed above
