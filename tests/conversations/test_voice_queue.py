"""The call centre (DESIGN.md section 13) through signed webhooks and the fake Twilio API:
screened operator legs, hold and queue, offers to a freed operator, availability."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.accounts.users import create_user
from hotline.jobs import registry
from hotline.stats.periods import parse_period
from hotline.stats.rollup import read_counts
from models import Contact, OutboxItem, Task, User, db
from models.types import utcnow
from routing.resolve import commune_menu
from tests.webhooks import BASE, spoken, xml

A = "CA" + "a" * 32
B = "CA" + "b" * 32
LEG = "CA" + "c" * 32
OP1, OP2 = "+84900400001", "+84900400002"


@pytest.fixture
def one_operator(directory):
    """Exactly one operator on duty (available), with a phone."""
    db.session.execute(db.update(User).values(on_duty=False))
    user = create_user("solo", password="x" * 16, role="operator", phone=OP1, on_duty=True)
    db.session.commit()
    return user


@pytest.fixture
def two_operators(directory):
    db.session.execute(db.update(User).values(on_duty=False))
    made = [
        create_user(f"duo{n}", password="x" * 16, role="operator", phone=p, on_duty=True)
        for n, p in enumerate((OP1, OP2))
    ]
    db.session.commit()
    return made


def contact(sid: str) -> Contact:
    db.session.expire_all()
    return db.session.scalar(select(Contact).where(Contact.provider_sid == sid))


def ask_for_counsellor(twilio, sid: str, caller: str = "+84900777001"):
    twilio.call(sid, sender=caller)
    return xml(twilio.step(f"{BASE}/twilio/voice/menu?n=1", sid, Digits="1", From=caller))


def operator_takes(twilio, root, caller_sid: str, phone: str, leg: str = LEG) -> None:
    """The operator's phone answers the screened leg and presses 1."""
    (number,) = [n for n in root.find("Dial").findall("Number") if n.text == phone]
    whisper = xml(twilio.step(number.get("url"), leg, ParentCallSid=caller_sid, To=phone))
    key = whisper.find("Gather")
    assert key.get("numDigits") == "1"
    answer = xml(
        twilio.step(key.get("action"), leg, ParentCallSid=caller_sid, To=phone, Digits="1")
    )
    assert answer.find("Hangup") is None and len(answer) == 0


def standalone(said: str) -> list[str]:
    """Numbers said on their own (not 113 or 18001769): the place in line."""
    return [n for n in re.findall(r"\d+", said) if n not in ("113", "18001769")]


def run_jobs(name: str) -> list[str]:
    """Run the outbox's pending work of this job in this process, as the worker would,
    and mark it done (the row stays, so its dedupe key still holds)."""
    items = db.session.scalars(
        select(OutboxItem).where(OutboxItem.job == name, OutboxItem.status == "pending")
    ).all()
    spec = registry.get(name)
    out = []
    for item in items:
        out.append(spec.fn(**item.payload))
        db.session.get(OutboxItem, item.id).status = "done"
        db.session.commit()
    return out


# --- screening -------------------------------------------------------------------------------


def test_a_screened_leg_joins_only_after_pressing_1(twilio, two_operators):
    root = ask_for_counsellor(twilio, A)
    (number, _other) = root.find("Dial").findall("Number")
    whisper = xml(twilio.step(number.get("url"), LEG, ParentCallSid=A, To=OP1))
    g = whisper.find("Gather")
    assert g.get("numDigits") == "1" and "1" in spoken(g)
    assert g.get("action").startswith(f"{BASE}/twilio/voice/screen-key?c=")
    # Silence after the whisper (what an operator's own voicemail does) hangs up this leg.
    assert [el.tag for el in whisper] == ["Gather", "Hangup"]
    assert contact(A).answered_at is None
    xml(twilio.step(g.get("action"), LEG, ParentCallSid=A, To=OP1, Digits="1"))
    c = contact(A)
    assert c.answered_at is not None and c.answered_by_id == two_operators[0].id
    assert c.operator_call_sid == LEG and c.status == "answered"
    assert db.session.get(User, two_operators[0].id).availability == "busy"


@pytest.mark.parametrize("digits", ["2", "", "9", "#"])
def test_another_key_or_none_hangs_up_that_leg_only(twilio, two_operators, digits):
    root = ask_for_counsellor(twilio, A)
    first, second = root.find("Dial").findall("Number")
    g = xml(twilio.step(first.get("url"), LEG, ParentCallSid=A, To=OP1)).find("Gather")
    answer = xml(twilio.step(g.get("action"), LEG, ParentCallSid=A, To=OP1, Digits=digits))
    assert [el.tag for el in answer] == ["Hangup"]
    c = contact(A)
    assert c.answered_at is None and c.ivr_step == "ringing"
    assert db.session.get(User, two_operators[0].id).availability == "available"
    # The other phone can still take the call.
    other = "CA" + "d" * 32
    g = xml(twilio.step(second.get("url"), other, ParentCallSid=A, To=OP2)).find("Gather")
    xml(twilio.step(g.get("action"), other, ParentCallSid=A, To=OP2, Digits="1"))
    assert contact(A).answered_by_id == two_operators[1].id


def test_nobody_pressing_1_means_voicemail_not_an_answered_call(twilio, one_operator):
    ask_for_counsellor(twilio, A)
    # The operator's phone was picked up by its voicemail: the leg was answered ...
    twilio.status(CallSid=LEG, ParentCallSid=A, CallStatus="in-progress", To=OP1)
    # ... but nobody pressed 1, so the <Dial> ends and the caller gets voicemail.
    root = xml(twilio.step(f"{BASE}/twilio/voice/dial-done?n=2", A, DialCallStatus="completed"))
    assert root.find("Record") is not None
    assert contact(A).answered_at is None


def test_only_on_duty_available_operators_are_rung(twilio, directory):
    db.session.execute(db.update(User).values(on_duty=False))
    create_user("av", password="x" * 16, role="operator", phone=OP1, on_duty=True)
    busy = create_user("bz", password="x" * 16, role="operator", phone=OP2, on_duty=True)
    away = create_user(
        "aw", password="x" * 16, role="operator", phone="+84900400003", on_duty=True
    )
    create_user("off", password="x" * 16, role="operator", phone="+84900400004", on_duty=False)
    busy.availability, away.availability = "busy", "away"
    db.session.commit()
    root = ask_for_counsellor(twilio, A)
    assert [n.text for n in root.find("Dial").findall("Number")] == [OP1]


def test_an_operator_put_on_duty_starts_available(directory):
    user = create_user("later", password="x" * 16, role="operator", phone=OP1, on_duty=False)
    user.availability = "away"
    db.session.commit()
    user.on_duty = True
    db.session.commit()
    assert db.session.get(User, user.id).availability == "available"


# --- hold and queue --------------------------------------------------------------------------


def test_second_caller_holds_and_is_offered_to_the_operator_when_free(
    twilio, one_operator, fake_twilio
):
    first = ask_for_counsellor(twilio, A, caller="+84900777001")
    operator_takes(twilio, first, A, OP1)
    # The only operator is busy: the second caller is put on hold, not rung through.
    root = ask_for_counsellor(twilio, B, caller="+84900777002")
    assert root.find("Dial") is None and root.find("Record") is None
    (enqueue,) = root.findall("Enqueue")
    assert enqueue.get("waitUrl") == f"{BASE}/twilio/voice/hold?n=2"
    assert enqueue.get("action") == f"{BASE}/twilio/voice/queue-done?n=2"
    hold = xml(twilio.step(enqueue.get("waitUrl"), B, QueueTime="5", QueuePosition="1"))
    said = spoken(hold)
    assert "113" in said and standalone(said) == ["1"]
    assert hold.find("Redirect").text.startswith(f"{BASE}/twilio/voice/hold?")
    assert contact(B).ivr_step == "queued" and contact(B).counsellor_requested_at
    assert not db.session.scalars(select(OutboxItem).where(OutboxItem.job == "voice.offer")).all()

    # The operator's call with the first caller ends: they are free and offered the second.
    twilio.status(CallSid=LEG, ParentCallSid=A, CallStatus="completed", To=OP1)
    assert db.session.get(User, one_operator.id).availability == "available"
    assert run_jobs("voice.offer") == ["offered"]
    (call,) = fake_twilio.calls
    assert call.form["To"] == OP1
    assert call.form["Url"].startswith(f"{BASE}/twilio/voice/offer?l=")
    assert call.form["StatusCallback"] == f"{BASE}/twilio/status"

    # The operator answers the offer, presses 1 and is connected to the queue's first caller.
    offer_url = call.form["Url"]
    g = xml(twilio.step(offer_url, call.sid, To=OP1)).find("Gather")
    assert g.get("numDigits") == "1"
    dial = xml(twilio.step(g.get("action"), call.sid, To=OP1, Digits="1")).find("Dial")
    (queue,) = dial.findall("Queue")
    assert queue.text == "hotline18001769"
    said = xml(twilio.step(queue.get("url"), B, DequeingCallSid=call.sid, QueueTime="40"))
    assert said.find("Say") is not None
    b = contact(B)
    assert b.answered_by_id == one_operator.id and b.answered_at is not None
    assert db.session.get(User, one_operator.id).on_call_sid == B


def test_the_position_counts_the_callers_ahead(twilio, one_operator):
    operator_takes(twilio, ask_for_counsellor(twilio, A, caller="+84900777001"), A, OP1)
    ask_for_counsellor(twilio, B, caller="+84900777002")
    third = "CA" + "e" * 32
    ask_for_counsellor(twilio, third, caller="+84900777003")
    hold = xml(twilio.step(f"{BASE}/twilio/voice/hold?n=2", third, QueueTime="3"))
    assert standalone(spoken(hold)) == ["2"]


@pytest.mark.parametrize("how", ["time", "key"])
def test_after_the_longest_wait_or_a_key_the_caller_leaves_a_voicemail(twilio, one_operator, how):
    operator_takes(twilio, ask_for_counsellor(twilio, A, caller="+84900777001"), A, OP1)
    ask_for_counsellor(twilio, B, caller="+84900777002")
    if how == "time":
        leave = xml(twilio.step(f"{BASE}/twilio/voice/hold?n=2", B, QueueTime="121"))
    else:
        g = xml(twilio.step(f"{BASE}/twilio/voice/hold?n=2", B, QueueTime="3")).find("Gather")
        leave = xml(twilio.step(g.get("action"), B, Digits="5"))
    assert [el.tag for el in leave] == ["Leave"]
    root = xml(twilio.step(f"{BASE}/twilio/voice/queue-done?n=2", B, QueueResult="leave"))
    assert root.find("Record") is not None
    b = contact(B)
    assert b.callback_requested
    assert db.session.scalar(select(Task).where(Task.contact_id == b.id)).kind == "callback"


def test_the_longest_wait_is_configurable(app, twilio, one_operator):
    from tests.conftest import config

    operator_takes(twilio, ask_for_counsellor(twilio, A, caller="+84900777001"), A, OP1)
    ask_for_counsellor(twilio, B, caller="+84900777002")
    with config(app, VOICE_MAX_WAIT_SECONDS=30):
        early = xml(twilio.step(f"{BASE}/twilio/voice/hold?n=2", B, QueueTime="20"))
        late = xml(twilio.step(f"{BASE}/twilio/voice/hold?n=3", B, QueueTime="31"))
    assert early.find("Gather") is not None
    assert [el.tag for el in late] == ["Leave"]


def test_a_caller_who_hangs_up_on_hold_is_abandoned_there_and_counted(twilio, one_operator):
    operator_takes(twilio, ask_for_counsellor(twilio, A, caller="+84900777001"), A, OP1)
    ask_for_counsellor(twilio, B, caller="+84900777002")
    twilio.step(f"{BASE}/twilio/voice/hold?n=2", B, QueueTime="3")
    twilio.status(CallSid=B, CallStatus="completed", CallDuration="50")
    b = contact(B)
    assert (b.status, b.abandoned_step) == ("abandoned", "queued")
    counts = read_counts(_this_year())
    assert sum(n for (t, _d, k), n in counts.items() if (t, k) == ("calls", "abandoned")) == 1
    assert (
        sum(n for (t, _d, k), n in counts.items() if (t, k) == ("abandoned_step", "queued")) == 1
    )


def test_nobody_on_duty_still_means_voicemail_not_hold(twilio, directory):
    db.session.execute(db.update(User).values(on_duty=False))
    db.session.commit()
    root = ask_for_counsellor(twilio, A)
    assert root.find("Enqueue") is None and root.find("Record") is not None


# --- metrics ---------------------------------------------------------------------------------


def _this_year():
    return parse_period(str(datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).year))


def test_metrics_run_from_the_counsellor_request_and_self_service_is_not_abandoned(
    twilio, one_operator
):
    # A: a long time in the menus, then asks for a counsellor and is answered at once.
    twilio.call(A, sender="+84900777001")
    a = contact(A)
    a.started_at = utcnow() - timedelta(seconds=100)
    db.session.commit()
    root = xml(twilio.step(f"{BASE}/twilio/voice/menu?n=1", A, Digits="1"))
    operator_takes(twilio, root, A, OP1)
    twilio.status(CallSid=A, CallStatus="completed", CallDuration="300")
    # B: hears the nearest point's number from the IVR and hangs up, satisfied.
    twilio.call(B, sender="+84900777002")
    twilio.step(f"{BASE}/twilio/voice/menu?n=1", B, Digits="2")
    twilio.step(f"{BASE}/twilio/voice/place?n=2", B, SpeechResult="xã Tiên Yên")
    twilio.status(CallSid=B, CallStatus="completed", CallDuration="60")
    assert contact(B).ivr_step == "place_result"
    counts = read_counts(_this_year())

    def total(table, key=""):
        return sum(n for (t, _d, k), n in counts.items() if t == table and k == key)

    assert total("calls", "answered_fast") == 1  # 100 s after the greeting, not after asking
    assert total("calls", "answered_slow") == 0
    assert total("calls", "abandoned") == 0
    assert total("wait_sum") < 20


# --- the IVR reads the commune keys it accepts -----------------------------------------------


def test_the_ivr_reads_the_commune_menu_it_accepts(twilio, directory):
    twilio.call(A)
    twilio.step(f"{BASE}/twilio/voice/menu?n=1", A, Digits="2")
    root = xml(twilio.step(f"{BASE}/twilio/voice/place?n=2", A, Digits="6#"))
    g = root.find("Gather")
    said = spoken(g)
    entries = commune_menu("199")
    assert len(entries) >= 2
    for n, entry in enumerate(entries, start=1):
        assert entry.label in said and f"{n}." in said
    # Key 2 of the spoken list: the second commune of that district.
    root = xml(twilio.step(g.get("action"), A, Digits="2#"))
    assert root.find("Gather").get("action").startswith(f"{BASE}/twilio/voice/after-place")
    assert contact(A).commune_code == entries[1].commune_codes[0]


def test_the_commune_menu_is_spoken_in_english_too(twilio, directory):
    twilio.call(A)
    twilio.step(f"{BASE}/twilio/voice/menu?n=1", A, Digits="8")
    twilio.step(f"{BASE}/twilio/voice/menu?n=2", A, Digits="2")
    root = xml(twilio.step(f"{BASE}/twilio/voice/place?n=3", A, Digits="6#"))
    g = root.find("Gather")
    assert g.get("language") == "en-US"
    assert "commune" in spoken(g) and "press 1" in spoken(g)


def test_an_offer_nobody_takes_goes_to_the_next_free_operator(twilio, two_operators, fake_twilio):
    from hotline.conversations.calls import offer_waiting

    first, second = two_operators
    first.availability = second.availability = "busy"
    db.session.commit()
    ask_for_counsellor(twilio, B, caller="+84900777002")
    assert contact(B).ivr_step == "queued"
    # The second operator is offered the caller; the first becomes available meanwhile.
    second = db.session.get(User, second.id)
    second.availability = "available"
    assert offer_waiting(second)
    db.session.commit()
    assert run_jobs("voice.offer") == ["offered"]
    db.session.get(User, first.id).availability = "available"
    db.session.commit()
    (offer,) = fake_twilio.calls
    assert offer.form["To"] == OP2
    # The second operator does not press 1: the caller is offered to the first.
    g = xml(twilio.step(offer.form["Url"], offer.sid, To=OP2)).find("Gather")
    refused = xml(twilio.step(g.get("action"), offer.sid, To=OP2, Digits="7"))
    assert [el.tag for el in refused] == ["Hangup"]
    twilio.status(CallSid=offer.sid, CallStatus="completed", To=OP2)
    assert run_jobs("voice.offer") == ["offered"]
    assert [c.form["To"] for c in fake_twilio.calls] == [OP2, OP1]
    assert contact(B).answered_at is None and contact(B).ivr_step == "queued"


def test_a_lost_end_of_call_does_not_leave_the_operator_busy(twilio, one_operator):
    from hotline.conversations.calls import tidy

    operator_takes(twilio, ask_for_counsellor(twilio, A, caller="+84900777001"), A, OP1)
    ask_for_counsellor(twilio, B, caller="+84900777002")
    # The caller's end reached us but not the operator's leg's, and the release was lost.
    a = contact(A)
    a.ended_at, a.status = utcnow(), "completed"
    db.session.commit()
    assert db.session.get(User, one_operator.id).availability == "busy"
    assert tidy() == 1  # run as the worker runs it, in the jobs' own app context
    db.session.expire_all()
    user = db.session.get(User, one_operator.id)
    assert user.availability == "available" and user.on_call_sid is None
    (offer,) = db.session.scalars(select(OutboxItem).where(OutboxItem.job == "voice.offer"))
    assert offer.payload == {"user_id": one_operator.id, "contact_id": contact(B).id}
    assert tidy() == 0
