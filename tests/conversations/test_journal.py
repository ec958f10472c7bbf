"""Journal-first intake (DESIGN.md section 10): the webhook records what arrived and what it
answered, and the worker makes the rows from that record — exactly once, in order per
sender, with the routing the reply named, whatever happens to the worker in between."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlalchemy import delete, func, select, text, update

from hotline.conversations.journal import process_journal
from hotline.phones import public_phone
from hotline.privacy import number_hash
from models import (
    Alert,
    AppSecret,
    Case,
    Contact,
    InboundJournal,
    Message,
    OptOut,
    Referral,
    ServicePoint,
    db,
)
from tests.conftest import wait_for
from tests.statements import statements as all_statements
from tests.webhooks import CALLER, drain_journal, reply_text
from tests.workers import kill_worker

PLACE = "Tôi ở Tiên Yên, chồng tôi đánh tôi"


def count(model) -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_webhook_records_and_answers_and_the_worker_makes_the_rows(twilio, directory):
    reply = reply_text(twilio.sms(PLACE, "SM" + "1" * 32, process=False))
    assert "113" in reply
    entry = db.session.scalars(select(InboundJournal)).one()
    assert entry.processed_at is None and entry.reply == reply
    assert entry.decision["step"] == "route" and entry.decision["new"] is True
    # Nothing but the record yet: no conversation, case, referral or alert.
    assert (count(Contact), count(Case), count(Referral), count(Alert)) == (0, 0, 0, 0)

    assert drain_journal(twilio.app) == 1
    case = db.session.scalars(select(Case)).one()
    point = case.referrals[0].service_point
    # The case goes exactly where the reply sent the person.
    assert point.name in reply and public_phone(point.phone) in reply
    assert case.routing == entry.decision["routing"]
    assert [m.direction for m in db.session.scalars(select(Message).order_by(Message.id))] == [
        "in",
        "out",
    ]
    assert count(Alert) == 1
    assert drain_journal(twilio.app) == 0  # exactly once
    assert (count(Case), count(Alert)) == (1, 1)


def test_the_worker_uses_the_recorded_decision_even_if_the_directory_changed(twilio, directory):
    reply = reply_text(twilio.sms(PLACE, "SM" + "2" * 32, process=False))
    named = db.session.scalars(select(InboundJournal)).one().decision["routing"]["chain"][0]
    # The point the reply named closes between the answer and the worker.
    db.session.execute(update(ServicePoint).where(ServicePoint.code == named).values(active=False))
    db.session.commit()
    drain_journal(twilio.app)
    referral = db.session.scalars(select(Referral)).one()
    assert referral.service_point.code == named and referral.service_point.name in reply
    # … and the next person is routed by the directory as it is now.
    reply = reply_text(twilio.sms(PLACE, "SM" + "3" * 32, sender="+84900555777"))
    assert (
        named
        not in db.session.scalars(select(InboundJournal).order_by(InboundJournal.id.desc()))
        .first()
        .decision["routing"]["chain"]
    )


def test_a_sender_s_messages_are_processed_in_order_in_one_conversation(twilio, directory):
    for n, body in enumerate(("alo", "giúp em", PLACE, "cảm ơn")):
        twilio.sms(body, f"SM{n:032d}", process=False)
    # The webhook answered each from the state the earlier, unprocessed ones left.
    steps = [
        e.decision.get("step")
        for e in db.session.scalars(select(InboundJournal).order_by(InboundJournal.id))
    ]
    assert steps == ["ask", "ask", "route", None]
    assert drain_journal(twilio.app) == 4
    contact = db.session.scalars(select(Contact)).one()
    bodies = [m.body for m in contact.messages if m.direction == "in"]
    assert bodies == ["alo", "giúp em", PLACE, "cảm ơn"]
    assert contact.status == "routed" and count(Case) == 1


def test_stop_is_honoured_at_once_before_the_worker_runs(twilio, directory):
    twilio.sms("STOP", "SM" + "4" * 32, process=False)
    assert db.session.get(OptOut, number_hash(CALLER)).opted_out is True
    from hotline.telephony.outbound import is_opted_out

    assert is_opted_out(CALLER)


def test_a_retried_sid_gets_the_first_answer_and_records_nothing(twilio, directory):
    first = reply_text(twilio.sms(PLACE, "SM" + "5" * 32, process=False))
    again = reply_text(twilio.sms("something else", "SM" + "5" * 32, process=False))
    assert again == first and count(InboundJournal) == 1


def test_a_directory_edit_is_seen_by_the_next_webhook(twilio, directory):
    first = reply_text(twilio.sms(PLACE, "SM" + "6" * 32))
    referral = db.session.scalars(select(Referral)).one()
    point = referral.service_point
    assert point.name in first
    point.active = False
    db.session.commit()
    second = reply_text(twilio.sms(PLACE, "SM" + "7" * 32, sender="+84900555778"))
    assert point.name not in second


def test_a_failing_entry_is_retried_and_holds_back_only_its_sender(twilio, directory, monkeypatch):
    twilio.sms(PLACE, "SM" + "8" * 32, process=False)
    twilio.sms(PLACE, "SM" + "9" * 32, sender="+84900555779", process=False)
    import hotline.conversations.journal as journal

    real = journal.apply_entry
    broken = {CALLER}

    def flaky(entry):
        if entry.sender == CALLER and CALLER in broken:
            raise RuntimeError("database hiccup")
        return real(entry)

    monkeypatch.setattr(journal, "apply_entry", flaky)
    assert drain_journal(twilio.app) == 1  # the other sender's message went through
    failed = db.session.scalars(
        select(InboundJournal).where(InboundJournal.processed_at.is_(None))
    ).one()
    assert failed.attempts == 1 and failed.error == "RuntimeError"
    broken.clear()
    assert drain_journal(twilio.app) == 1
    assert count(Case) == 2


def test_statements_per_sms_webhook(twilio, directory, app):
    """The webhook does the least the conversation needs (journal first)."""
    twilio.sms("alo", "SM" + "a" * 32, sender="+84900555780", process=False)  # warm caches
    with app.app_context():
        engine = db.engine
    with all_statements(engine) as statements:
        twilio.sms(PLACE, "SM" + "b" * 32, sender="+84900555781", process=False)
    kinds = Counter(statements)
    # One read (the answer already given, the sender's state, the directory version: one
    # statement) and one INSERT; on PostgreSQL the sender's advisory lock before them (on
    # SQLite the INSERT itself checks that nothing overtook it). +1 here: the first
    # routing loads the directory, cached afterwards.
    assert kinds["INSERT"] == 1 and kinds["UPDATE"] == kinds["DELETE"] == 0, statements
    assert len(statements) == (4 if engine.dialect.name == "postgresql" else 3), statements


def _overtaken_once(monkeypatch, overtake) -> list[str]:
    """Run ``overtake`` once, just before the webhook writes its entry (after it read the
    sender's state and decided); the SQL of every journal INSERT the webhook sent."""
    from models import quick

    sent: list[str] = []

    def observe(sql: str) -> None:
        if sql.startswith('INSERT INTO "inbound_journal"'):
            sent.append(sql)
            if len(sent) == 1:
                overtake()

    monkeypatch.setattr(quick, "observers", [*quick.observers, observe])
    return sent


def _sqlite_only(app) -> None:
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            pytest.skip("PostgreSQL holds the sender's advisory lock while deciding")


def test_a_message_recorded_while_another_was_decided_makes_it_decide_again(
    app, twilio, directory, monkeypatch
):
    """SQLite: the webhook decides without a lock. Another message of the same sender,
    recorded between its read and its write, makes its write refuse, and it decides again
    from the state that message left (one conversation, its second question)."""
    from hotline.conversations.sms import handle_sms
    from hotline.telephony import InboundSms

    _sqlite_only(app)
    sent = _overtaken_once(
        monkeypatch,
        lambda: handle_sms(InboundSms("twilio", "SM" + "1" * 32, CALLER, body="alo")),
    )
    twilio.sms("giúp em", "SM" + "2" * 32, process=False)
    assert len(sent) == 3  # the first try, the other message's, the second try
    entries = db.session.scalars(select(InboundJournal).order_by(InboundJournal.id)).all()
    assert [e.provider_sid[2:3] for e in entries] == ["1", "2"]
    assert [(e.decision["new"], e.decision["asks"]) for e in entries] == [(True, 1), (False, 2)]
    assert drain_journal(twilio.app) == 2
    assert count(Contact) == 1


def test_a_conversation_routed_while_a_message_was_decided_makes_it_decide_again(
    app, twilio, directory, monkeypatch
):
    """SQLite: the place question's timeout routes a conversation without a journal entry;
    a message decided from the conversation before that is decided again."""
    _sqlite_only(app)
    twilio.sms("alo", "SM" + "1" * 32)  # the worker makes the conversation (open, asked)

    def route() -> None:
        with db.engine.begin() as conn:
            conn.execute(update(Contact).values(status="routed"))

    sent = _overtaken_once(monkeypatch, route)
    response = twilio.sms("giúp em", "SM" + "2" * 32, process=False)
    assert len(sent) == 2
    assert reply_text(response) == "Đã nhận tin. Nguy hiểm gọi 113."


def test_a_worker_killed_mid_journal_leaves_nothing_lost_or_doubled(
    app, twilio, directory, start_worker
):
    senders = [f"+8490077{n:04d}" for n in range(100)]
    for n, sender in enumerate(senders):
        twilio.sms(PLACE, f"SM{n:030d}kk", sender=sender, process=False)
    db.session.commit()
    worker = start_worker()
    # Let it start on the journal, then cut its power.
    wait_for(
        lambda: db.session.scalar(select(func.count()).select_from(Case)) > 0,
        timeout=60,
        interval=0.02,
    )
    kill_worker(worker)
    time.sleep(0.2)
    start_worker()
    wait_for(
        lambda: (
            db.session.scalar(
                select(func.count())
                .select_from(InboundJournal)
                .where(InboundJournal.processed_at.is_(None))
            )
            == 0
        ),
        timeout=90,
    )
    db.session.remove()
    per_contact = Counter(db.session.scalars(select(Case.contact_id)))
    contacts = db.session.scalars(select(Contact)).all()
    assert sorted(c.caller_hash for c in contacts) == sorted(number_hash(s) for s in senders)
    assert set(per_contact.values()) == {1} and len(per_contact) == len(senders)
    alerts = Counter(
        db.session.scalars(select(Referral.case_id).join(Alert, Alert.referral_id == Referral.id))
    )
    assert set(alerts.values()) == {1} and len(alerts) == len(senders)
    inbound = Counter(
        db.session.scalars(select(Message.provider_sid).where(Message.direction == "in"))
    )
    assert set(inbound.values()) == {1} and len(inbound) == len(senders)


def test_the_loop_processes_only_what_is_waiting(app, ctx):
    assert process_journal() == 0


def test_a_message_answered_before_the_journal_existed_keeps_its_answer(twilio, directory):
    from hotline.telephony.receipts import save_receipt
    from hotline.telephony.twilio import twiml

    save_receipt(
        "twilio", "sms:SM" + "c" * 32, twiml.render_message("Earlier answer"), twiml.CONTENT_TYPE
    )
    db.session.commit()
    assert reply_text(twilio.sms(PLACE, "SM" + "c" * 32)) == "Earlier answer"
    assert count(InboundJournal) == 0 and count(Case) == 0


def test_processed_entries_are_deleted_after_a_week(twilio, directory):
    from datetime import timedelta

    from hotline.conversations.journal import purge_journal
    from models.types import utcnow

    twilio.sms(PLACE, "SM" + "d" * 32)  # processed
    twilio.sms("alo", "SM" + "e" * 32, sender="+84900555782", process=False)  # waiting
    assert purge_journal(now=utcnow() + timedelta(days=6)) == 0
    assert purge_journal(now=utcnow() + timedelta(days=8)) == 1
    left = db.session.scalars(select(InboundJournal.provider_sid)).all()
    assert left == ["SM" + "e" * 32]  # never one the worker has not made into rows
    assert count(Message) == 2  # the conversation keeps the messages


def test_two_processors_at_once_make_each_entry_once(app, twilio, directory):
    """Workers (and the PostgreSQL listener) may process the journal at the same moment;
    messages from withheld numbers have no sender lock: each entry is locked itself."""
    import threading

    for n in range(12):
        twilio.sms(PLACE, f"SM{n:030d}ww", sender="", process=False)
    db.session.commit()
    barrier = threading.Barrier(3)

    def run() -> None:
        with app.app_context():
            barrier.wait()
            process_journal()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.remove()
    inbound = Counter(
        db.session.scalars(select(Message.provider_sid).where(Message.direction == "in"))
    )
    assert len(inbound) == 12 and set(inbound.values()) == {1}
    assert count(Contact) == 12 and count(Case) == 12 and count(Alert) == 12
    # … and neither stumbled on the other's work (a failed attempt is logged as an error).
    assert db.session.scalars(select(InboundJournal.error)).all() == [None] * 12


def test_a_recorded_message_wakes_the_listener_at_once(app, twilio, directory):
    """PostgreSQL: the webhook's NOTIFY wakes the worker's listener, which makes the case
    and hands the alert to the queue without waiting for the worker's poll (no worker and
    no poll run here: only the listener can have done it)."""
    import threading

    from hotline.conversations.wake import start_listener
    from hotline.jobs.queue import redis_connection
    from hotline.jobs.relay import job_id
    from models import OutboxItem

    stop = threading.Event()
    listener = start_listener(app, stop)
    if db.engine.dialect.name != "postgresql":
        assert listener is None  # SQLite: the worker's poll alone
        return
    try:
        time.sleep(0.5)  # listening
        twilio.sms(PLACE, "SM" + "w" * 32, process=False)
        wait_for(lambda: count(Case) == 1, timeout=10, interval=0.02)
        wait_for(
            lambda: (
                db.session.scalars(
                    select(OutboxItem.status).where(OutboxItem.job == "alerts.send")
                ).all()
                == ["enqueued"]
            ),
            timeout=10,
        )
        (item,) = db.session.scalars(select(OutboxItem).where(OutboxItem.job == "alerts.send"))
        assert redis_connection(app).exists(f"rq:job:{job_id(item)}")
    finally:
        stop.set()
        listener.join(timeout=5)
    assert not listener.is_alive()


def test_the_number_hash_key_made_by_a_first_webhook_is_kept(twilio, directory):
    """A new database's first message makes the key of the number hash. The webhook's own
    statements run on another connection than the ORM session's: the key must be committed
    all the same, or every later message would be hashed with another key (one sender,
    many conversations; an opt-out forgotten)."""
    import hotline.privacy as privacy

    saved = db.session.get(AppSecret, "number_hash_key")
    old_value = saved.value if saved is not None else None
    db.session.execute(delete(AppSecret).where(AppSecret.name == "number_hash_key"))
    db.session.commit()
    privacy._cache.clear()
    try:
        twilio.sms("STOP", "SM" + "k" * 32, process=False)
        privacy._cache.clear()  # as another process would: read the key from the database
        with twilio.app.app_context():
            key = db.session.get(AppSecret, "number_hash_key")
            assert key is not None
            entry = db.session.scalars(select(InboundJournal)).one()
            assert entry.sender_hash == number_hash(CALLER)
            assert db.session.get(OptOut, number_hash(CALLER)).opted_out is True
    finally:
        if old_value is not None:
            db.session.execute(delete(AppSecret).where(AppSecret.name == "number_hash_key"))
            db.session.add(AppSecret(name="number_hash_key", value=old_value))
            db.session.commit()
        privacy._cache.clear()


def test_a_flood_waiting_for_the_worker_does_not_slow_the_sender_s_read(app, ctx):
    """PostgreSQL: with thousands of entries waiting and statistics that have not seen them
    (a flood, before autovacuum analyses the table), the webhook's read of the sender's
    latest unprocessed entry is still one probe of the index made for it."""
    from hotline.conversations.sms import _SNAPSHOTS

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's planner reads the sender's index without statistics")
    db.session.execute(text("ANALYZE inbound_journal"))  # statistics of an empty journal
    db.session.execute(
        text(
            "INSERT INTO inbound_journal (provider, provider_sid, channel, sender_hash,"
            " media_count, decision, received_at, attempts)"
            " SELECT 'test', 'SM' || n, 'sms', md5(n::text) || md5(n::text), 0, '{}', now(), 0"
            " FROM generate_series(1, 3000) AS n"
        )
    )
    db.session.commit()
    plan = db.session.execute(
        text("EXPLAIN " + _SNAPSHOTS["sms"].sql),
        {"provider": "twilio", "sid": "SMx", "receipt_key": "sms:SMx", "sender": "ab" * 32},
    ).scalars()
    plan = "\n".join(plan)
    assert "ix_inbound_journal_sender_unprocessed" in plan, plan
    assert "ix_inbound_journal_unprocessed" not in plan, plan
