"""The voice IVR through Twilio's webhooks: TwiML parsed as XML and asserted."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text

from hotline.accounts.users import create_user
from models import Contact, OutboxItem, ServicePoint, User, db
from tests.webhooks import BASE, CALLER, spoken, xml

SID = "CA" + "1" * 32


@pytest.fixture
def operators(directory):
    """Two operators on duty with phones, one off duty, one on duty without a phone."""
    db.session.execute(db.update(User).values(on_duty=False))
    made = []
    for n, (on_duty, phone) in enumerate(
        [(True, "+84900300001"), (True, "+84900300002"), (False, "+84900300003")]
    ):
        made.append(
            create_user(f"op{n}", password="x" * 16, role="operator", phone=phone, on_duty=on_duty)
        )
    # On duty without a phone (the accounts service refuses it, the database may not).
    db.session.add(User(username="op-nophone", password_hash="x", role="operator", on_duty=True))
    db.session.commit()
    return made


def gather(root):
    (g,) = root.findall("Gather")
    return g


def test_greeting_is_vietnamese_first_and_names_113_first(twilio, directory):
    root = xml(twilio.call(SID))
    g = gather(root)
    assert g.get("action") == f"{BASE}/twilio/voice/menu?n=1"
    assert g.get("numDigits") == "1"
    says = g.findall("Say")
    assert says[0].get("language") == "vi-VN"
    assert says[0].get("voice", "").startswith("Google.vi-VN")
    assert "113" in says[0].text.split(".")[0]
    # The language option is spoken in English.
    assert says[-1].get("language") == "en-US" and "8" in says[-1].text
    (redirect,) = root.findall("Redirect")
    assert redirect.text == f"{BASE}/twilio/voice/menu-silence?n=1"
    contact = db.session.scalars(select(Contact)).one()
    assert (contact.channel, contact.provider_sid, contact.ivr_step) == ("voice", SID, "greeting")


def test_retried_call_webhook_answers_the_same_and_creates_one_contact(twilio, directory):
    first = twilio.call(SID)
    again = twilio.call(SID)
    assert first.get_data() == again.get_data()
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1


def test_pressing_8_switches_to_english_prompts(twilio, directory):
    twilio.call(SID)
    root = xml(twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="8"))
    g = gather(root)
    assert g.get("language") == "en-US"
    assert all(s.get("language") == "en-US" for s in g.findall("Say")[:-1])
    assert g.findall("Say")[-1].get("language") == "vi-VN"
    assert "press 1" in spoken(g)
    assert db.session.scalars(select(Contact)).one().language == "en"


@pytest.mark.parametrize("digits", ["99999999999", "", "*", "#", "7", "١"])
def test_digits_out_of_range_repeat_the_menu(twilio, directory, digits):
    twilio.call(SID)
    response = twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits=digits)
    assert response.status_code == 200
    assert gather(xml(response)).get("action") == f"{BASE}/twilio/voice/menu?n=2"


def test_find_support_by_keypad_reads_out_the_point_name_and_phone(twilio, directory):
    twilio.call(SID)
    root = xml(twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="2"))
    g = gather(root)
    assert g.get("action") == f"{BASE}/twilio/voice/place?n=2"
    assert g.get("finishOnKey") == "#" and "speech" in g.get("input")
    assert g.get("language") == "vi-VN"
    assert "Tiên Yên" in spoken(g)
    root = xml(twilio.step(g.get("action"), SID, Digits="6#"))
    # The district key leads to its communes' menu; 0 keeps the whole district.
    communes = gather(root)
    assert communes.get("action") == f"{BASE}/twilio/voice/commune?n=3"
    assert communes.get("finishOnKey") == "#"
    root = xml(twilio.step(communes.get("action"), SID, Digits="0#"))
    result = gather(root)
    assert result.get("action") == f"{BASE}/twilio/voice/after-place?n=4"
    # The routed point (named in the answer; it depends on opening hours) is read out with
    # its own phone from the directory, digit by digit in the national form (0 for +84).
    said = spoken(result)
    named = [p for p in db.session.scalars(select(ServicePoint)) if p.name in said]
    assert named, said
    point = max(named, key=lambda p: len(p.name))
    digits = (
        "0" + point.phone.removeprefix("+84") if point.phone.startswith("+84") else point.phone
    )
    assert len(digits) >= 3, point.phone
    alone = r"(?<!\d)(?<!\d )(?<!\d, )" + r"[ ,]+".join(digits) + r"(?![ ,]*\d)"
    assert re.search(alone, said), (digits, said)
    contact = db.session.scalars(select(Contact)).one()
    assert contact.district_code == "199" and contact.ivr_step == "place_result"


def test_find_support_by_speech_uses_the_place_resolver(twilio, directory):
    twilio.call(SID)
    twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="2")
    root = xml(twilio.step(f"{BASE}/twilio/voice/place?n=2", SID, SpeechResult="xã Tiên Yên"))
    assert gather(root).get("action").startswith(f"{BASE}/twilio/voice/after-place")
    assert db.session.scalars(select(Contact)).one().commune_code == "06862"


def test_unknown_place_twice_gives_the_provincial_centre(twilio, directory):
    twilio.call(SID)
    twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="2")
    root = xml(twilio.step(f"{BASE}/twilio/voice/place?n=2", SID, Digits="99"))
    assert gather(root).get("action") == f"{BASE}/twilio/voice/place?n=3"
    root = xml(twilio.step(f"{BASE}/twilio/voice/place?n=3", SID, Digits="0#"))
    assert "Trung tâm" in spoken(root)


def test_counsellor_rings_every_on_duty_operator_at_once(twilio, operators):
    twilio.call(SID)
    root = xml(twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="1"))
    (dial,) = root.findall("Dial")
    numbers = [n.text for n in dial.findall("Number")]
    assert numbers == ["+84900300001", "+84900300002"]
    assert dial.get("action") == f"{BASE}/twilio/voice/dial-done?n=2"
    assert 10 <= int(dial.get("timeout")) <= 30
    assert [n.get("statusCallback") for n in dial] == [f"{BASE}/twilio/status"] * 2
    contact = db.session.scalars(select(Contact)).one()
    # Each phone is screened: its url whispers before the operator is connected.
    assert [n.get("url") for n in dial] == [f"{BASE}/twilio/voice/screen?c={contact.id}&n=2"] * 2
    assert contact.ivr_step == "ringing" and contact.counsellor_requested_at is not None


def test_at_most_ten_phones_ring(twilio, directory):
    for n in range(12):
        create_user(
            f"op{n}", password="x" * 16, role="operator", phone=f"+849003001{n:02d}", on_duty=True
        )
    db.session.commit()
    twilio.call(SID)
    root = xml(twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="1"))
    assert len(root.find("Dial").findall("Number")) == 10


def test_nobody_on_duty_goes_to_voicemail_and_requests_a_callback(twilio, directory):
    db.session.execute(db.update(User).values(on_duty=False))
    db.session.commit()
    twilio.call(SID)
    root = xml(twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="1"))
    assert root.find("Dial") is None
    (record,) = root.findall("Record")
    assert record.get("action") == f"{BASE}/twilio/voice/recorded?n=2"
    assert int(record.get("maxLength")) <= 180
    assert record.get("recordingStatusCallback") == f"{BASE}/twilio/voice/recording?n=2"
    contact = db.session.scalars(select(Contact)).one()
    assert contact.callback_requested and contact.callback_requested_at
    work = db.session.scalars(select(OutboxItem)).one()
    assert work.job == "alerts.notify_callback"
    assert work.payload == {"contact_id": contact.id} and work.queue == "alerts"


def test_no_answer_leads_to_voicemail_and_the_recording_is_kept_encrypted(twilio, operators):
    twilio.call(SID)
    twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="1")
    root = xml(twilio.step(f"{BASE}/twilio/voice/dial-done?n=2", SID, DialCallStatus="no-answer"))
    assert root.find("Record") is not None
    url = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1"
    root = xml(
        twilio.step(
            f"{BASE}/twilio/voice/recorded?n=3",
            SID,
            RecordingUrl=url,
            RecordingSid="RE" + "1" * 32,
            RecordingDuration="14",
        )
    )
    assert root.find("Hangup") is not None
    contact = db.session.scalars(select(Contact)).one()
    assert contact.recording_url == url and contact.recording_seconds == 14
    raw = db.session.execute(text("SELECT recording_url FROM contact")).scalar()
    assert "api.twilio.com" not in raw
    twilio.status(CallSid=SID, CallStatus="completed", CallDuration="70")
    db.session.expire_all()
    contact = db.session.scalars(select(Contact)).one()
    assert contact.status == "voicemail" and contact.duration_seconds == 70


def test_answered_call_records_time_to_answer_and_the_operator(twilio, operators):
    twilio.call(SID)
    root = xml(twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="1"))
    leg = "CA" + "9" * 32
    # The phone being answered is not the call being answered (a voicemail answers too) ...
    twilio.status(CallSid=leg, ParentCallSid=SID, CallStatus="in-progress", To="+84900300002")
    assert db.session.scalars(select(Contact)).one().answered_at is None
    # ... the operator pressing 1 after the whisper is.
    whisper = root.find("Dial").findall("Number")[1].get("url")
    key = gather(xml(twilio.step(whisper, leg, From=CALLER, To="+84900300002")))
    assert (
        xml(twilio.step(key.get("action"), leg, To="+84900300002", Digits="1")).find("Hangup")
        is None
    )
    xml(
        twilio.step(
            f"{BASE}/twilio/voice/dial-done?n=2",
            SID,
            DialCallStatus="completed",
            DialCallDuration="300",
        )
    )
    twilio.status(CallSid=SID, CallStatus="completed", CallDuration="320")
    contact = db.session.scalars(select(Contact)).one()
    db.session.refresh(contact)
    assert contact.answered_at is not None and contact.answered_at >= contact.started_at
    assert contact.answered_by_id == operators[1].id
    assert contact.status == "completed" and contact.abandoned_step is None
    assert contact.duration_seconds == 320


def test_hanging_up_before_an_answer_is_abandoned_at_that_step(twilio, directory):
    twilio.call(SID)
    twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="2")
    response = twilio.status(CallSid=SID, CallStatus="completed", CallDuration="25")
    assert response.status_code == 204
    contact = db.session.scalars(select(Contact)).one()
    assert (contact.status, contact.abandoned_step) == ("abandoned", "place")
    assert contact.answered_at is None and contact.ended_at is not None


def test_silence_repeats_the_menu_once_then_connects_to_a_person(twilio, operators):
    twilio.call(SID)
    root = xml(twilio.step(f"{BASE}/twilio/voice/menu-silence?n=1", SID))
    assert root.find("Gather") is not None
    assert root.find("Redirect").text == f"{BASE}/twilio/voice/dial?n=2"
    root = xml(twilio.step(f"{BASE}/twilio/voice/dial?n=2", SID))
    assert root.find("Dial") is not None


def test_a_repeated_step_is_new_but_a_retried_step_is_not(twilio, directory):
    twilio.call(SID)
    a = twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="9")
    b = twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="9")
    assert a.get_data() == b.get_data()
    c = twilio.step(f"{BASE}/twilio/voice/menu?n=2", SID, Digits="9")
    assert gather(xml(c)).get("action").endswith("n=3")
    # three steps taken: the greeting, the menu (once, though asked twice), the repeat
    assert db.session.scalars(select(Contact)).one().step_count == 3


@pytest.mark.parametrize(
    "form",
    [{}, {"CallSid": ""}, {"CallSid": "CA" + "x" * 500}, {"CallSid": SID, "From": "🆘" * 40}],
)
def test_hostile_call_requests_get_safe_twiml(twilio, directory, form):
    for path in ("/twilio/voice", "/twilio/voice/menu?n=1", "/twilio/voice/nonsense?n=1"):
        response = twilio.post(path, form)
        assert response.status_code == 200, path
        assert xml(response).find("Say") is not None or xml(response).find("Gather") is not None


def test_prompts_are_vietnamese_and_english_from_the_catalogs(twilio, directory):
    root = xml(twilio.call(SID))
    vi_text = spoken(gather(root))
    assert "113" in vi_text
    # Not the English msgid: the Vietnamese catalog answered.
    assert "If you are in danger" not in gather(root).findall("Say")[0].text
