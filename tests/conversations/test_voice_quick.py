"""A caller's menu steps answered with one read and one write (DESIGN.md section 10,
issue 16): the statements each step runs, retries and twins, the directory as it is now,
and the steps that must run the full way."""

from __future__ import annotations

import threading

from sqlalchemy import delete, func, select, update

from hotline.stats.rollup import refresh_dirty
from models import Contact, ServicePoint, StatDirtyDay, StatRollup, WebhookReceipt, db
from tests.conversations.test_voice import gather, operators  # noqa: F401 - a fixture
from tests.statements import statements as all_statements
from tests.webhooks import BASE, spoken, xml

SID = "CA" + "7" * 32
WRITES = ("INSERT", "UPDATE", "DELETE")


def warm(twilio) -> None:
    """Another call through the menus first: the keys made on first use and the
    directory's cache are there, as in a running service."""
    other = "CA" + "0" * 32
    twilio.call(other)
    twilio.step(f"{BASE}/twilio/voice/menu?n=1", other, Digits="2")
    twilio.step(f"{BASE}/twilio/voice/place?n=2", other, SpeechResult="Tiên Yên")


def statements():
    """The SQL statements run inside the block (their first words), commits excluded."""
    return all_statements(db.engine)


def test_the_greeting_writes_the_call_once_without_reading(twilio, directory):
    warm(twilio)
    db.session.execute(delete(StatDirtyDay))  # the warm-up call's mark
    db.session.commit()
    with statements() as seen:
        root = xml(twilio.call(SID))
    assert gather(root).get("action") == f"{BASE}/twilio/voice/menu?n=1"
    # No read: the call's row written as new, and its day marked for the statistics (one
    # statement on PostgreSQL, committing on its own; two in one transaction on SQLite).
    postgres = db.engine.dialect.name == "postgresql"
    assert seen == (["WITH"] if postgres else ["INSERT", "INSERT"]), seen
    assert db.session.scalar(select(func.count()).select_from(StatDirtyDay)) == 1
    contact = db.session.scalars(select(Contact).where(Contact.provider_sid == SID)).one()
    assert (contact.ivr_step, contact.step_count, contact.status) == ("greeting", 1, "in_progress")
    assert contact.caller_number and contact.caller_hash
    assert db.session.scalar(select(func.count()).select_from(WebhookReceipt)) == 0


def test_each_menu_step_reads_once_and_updates_the_call_once(twilio, directory):
    warm(twilio)
    twilio.call(SID)
    for url, fields in (
        (f"{BASE}/twilio/voice/menu?n=1", {"Digits": "2"}),
        (f"{BASE}/twilio/voice/place?n=2", {"SpeechResult": "Tiên Yên"}),
        (f"{BASE}/twilio/voice/after-place?n=3", {"Digits": "9"}),
    ):
        with statements() as seen:
            response = twilio.step(url, SID, **fields)
        assert response.status_code == 200
        assert seen == ["SELECT", "UPDATE"], (url, seen)
    contact = db.session.scalars(select(Contact).where(Contact.provider_sid == SID)).one()
    assert contact.step_count == 4 and contact.ivr_step == "place_result"
    assert contact.district_code is not None


def test_a_retried_menu_step_gets_the_same_answer_and_changes_nothing(twilio, directory):
    twilio.call(SID)
    first = twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="8")
    with statements() as seen:
        again = twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="8")
    assert again.get_data() == first.get_data()
    assert [s for s in seen if s in WRITES] == []
    contact = db.session.scalars(select(Contact)).one()
    # Pressed 8 once (English), not twice (back to Vietnamese).
    assert (contact.language, contact.step_count) == ("en", 2)


def test_a_retried_greeting_reads_the_first_answer_and_changes_nothing(twilio, directory):
    first = twilio.call(SID)
    db.session.execute(update(Contact).values(ivr_step="marker"))  # what a rewrite would undo
    db.session.commit()
    with statements() as seen:
        again = twilio.call(SID)
    assert again.get_data() == first.get_data()
    # The new call's row was there: nothing written, then the read found the answer.
    postgres = db.engine.dialect.name == "postgresql"
    assert seen == (["WITH", "SELECT"] if postgres else ["INSERT", "SELECT"]), seen
    db.session.expire_all()
    contact = db.session.scalars(select(Contact)).one()
    assert (contact.ivr_step, contact.step_count) == ("marker", 1)


def test_twin_greetings_at_once_make_one_call_with_one_answer(app, twilio, directory):
    answers: list[bytes] = []
    barrier = threading.Barrier(4)

    def call() -> None:
        with app.test_client() as client:
            from tests.webhooks import Twilio

            barrier.wait()
            answers.append(Twilio(app, client).call(SID).get_data())

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 4 and len(set(answers)) == 1
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1
    assert db.session.scalars(select(Contact)).one().step_count == 1


def test_a_menu_step_that_rings_operators_runs_the_full_way(twilio, operators):  # noqa: F811
    twilio.call(SID)
    root = xml(twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="1"))
    numbers = sorted(n.text for n in root.find("Dial").findall("Number"))
    assert numbers == ["+84900300001", "+84900300002"]
    contact = db.session.scalars(select(Contact)).one()
    assert contact.ivr_step == "ringing" and contact.counsellor_requested_at is not None
    assert contact.step_count == 2


def test_the_place_answer_names_the_point_of_the_directory_as_it_is_now(twilio, directory):
    twilio.call(SID)
    twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="2")
    said = spoken(xml(twilio.step(f"{BASE}/twilio/voice/place?n=2", SID, SpeechResult="Tiên Yên")))
    named = next(
        p
        for p in db.session.scalars(select(ServicePoint).where(ServicePoint.active))
        if p.name in said
    )
    # That point closes; the next caller asking for the same place hears another one.
    db.session.execute(
        update(ServicePoint).where(ServicePoint.id == named.id).values(active=False)
    )
    db.session.commit()
    other = "CA" + "8" * 32
    twilio.call(other)
    twilio.step(f"{BASE}/twilio/voice/menu?n=1", other, Digits="2")
    said = spoken(
        xml(twilio.step(f"{BASE}/twilio/voice/place?n=2", other, SpeechResult="Tiên Yên"))
    )
    assert named.name not in said
    assert any(
        p.name in said for p in db.session.scalars(select(ServicePoint).where(ServicePoint.active))
    )


def test_a_call_that_ends_in_the_menus_counts_in_its_day_and_forgets_its_answer(twilio, directory):
    twilio.call(SID)
    twilio.step(f"{BASE}/twilio/voice/menu?n=1", SID, Digits="2")
    refresh_dirty()  # the statistics worker runs in between
    assert db.session.scalar(select(func.count()).select_from(StatDirtyDay)) == 0
    twilio.status(CallSid=SID, CallStatus="completed", CallDuration="30")
    contact = db.session.scalars(select(Contact)).one()
    assert contact.status == "abandoned" and contact.abandoned_step == "place"
    assert contact.answer is None and contact.answer_key is None
    # The end marked the day again: the call counts, abandoned at the place question.
    assert refresh_dirty() == 1
    rows = db.session.scalars(select(StatRollup).where(StatRollup.tbl == "abandoned_step")).all()
    assert [(r.k2, r.n) for r in rows] == [("place", 1)]
