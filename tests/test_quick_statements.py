"""The webhooks' statements on the database driver (``models/quick.py``): what they write
reads back through the ORM exactly as if the ORM had written it, on both databases; an
INSERT gets the columns' defaults; a connection is given back clean; a pooled connection
idle for a while is pinged before use (``models/pool.py``); a call's answer is stored
compressed and encrypted (``PackedText``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from models import Contact, InboundJournal, db, pool, quick
from models.quick import Statement
from models.types import keyring, utcnow

CANARY_BODY = "Canary-quick-7aa1 chồng tôi"
CANARY_NUMBER = "+84900777123"
JOURNAL = InboundJournal.__table__
KEYS = ("provider", "provider_sid", "sender_hash", "sender", "body", "reply", "decision")
INSERT = quick.insert(JOURNAL, (*KEYS, "received_at"))
READ = Statement(
    "SELECT body, decision, received_at, media_count, channel FROM inbound_journal"
    " WHERE provider_sid = :sid",
    columns={
        "body": JOURNAL.c.body.type,
        "decision": JOURNAL.c.decision.type,
        "received_at": JOURNAL.c.received_at.type,
    },
)


def entry(sid: str, when: datetime) -> dict:
    return {
        "provider": "test",
        "provider_sid": sid,
        "sender_hash": "ab" * 32,
        "sender": CANARY_NUMBER,
        "body": CANARY_BODY,
        "reply": "Đã nhận tin.",
        "decision": {"step": "ask", "asks": 1, "places": ["Tiên Yên", None]},
        "received_at": when,
    }


def test_a_row_written_on_the_driver_reads_back_through_the_orm_as_written(ctx):
    when = datetime(2026, 12, 1, 16, 59, 59, 123456, tzinfo=UTC)
    with quick.connection() as conn:
        conn.run(INSERT, entry("SMquick1", when))
        conn.commit()
    row = db.session.scalars(
        select(InboundJournal).where(InboundJournal.provider_sid == "SMquick1")
    ).one()
    assert row.body == CANARY_BODY and row.sender == CANARY_NUMBER
    assert row.decision == {"step": "ask", "asks": 1, "places": ["Tiên Yên", None]}
    assert row.received_at == when and row.received_at.tzinfo is not None
    # Defaults the ORM would have filled: the channel and the media count.
    assert (row.channel, row.media_count, row.attempts, row.processed_at) == ("sms", 0, 0, None)
    # Encrypted at rest: neither the number nor the text is in the raw row.
    raw = db.session.execute(
        text("SELECT sender, body FROM inbound_journal WHERE provider_sid = 'SMquick1'")
    ).one()
    assert CANARY_NUMBER not in raw.sender and "Canary" not in raw.body
    # And the driver reads what the ORM wrote the same way.
    with quick.connection() as conn:
        back = conn.one(READ, {"sid": "SMquick1"})
    assert back.body == CANARY_BODY and back.decision == row.decision
    assert back.received_at == when and (back.media_count, back.channel) == (0, "sms")


def test_what_is_not_committed_when_the_block_ends_is_rolled_back(ctx):
    with quick.connection() as conn:
        conn.run(INSERT, entry("SMquick2", utcnow()))
        assert conn.one(READ, {"sid": "SMquick2"}) is not None  # seen inside
    with quick.connection() as conn:
        assert conn.one(READ, {"sid": "SMquick2"}) is None
    assert db.session.scalar(select(func.count()).select_from(InboundJournal)) == 0


def test_a_unique_row_written_twice_fails_and_keeps_the_first(ctx):
    with quick.connection() as conn:
        conn.run(INSERT, entry("SMquick3", utcnow()))
        conn.commit()
    with pytest.raises(quick.INTEGRITY_ERRORS), quick.connection() as conn:
        conn.run(INSERT, {**entry("SMquick3", utcnow()), "body": "second"})
        conn.commit()
    with quick.connection() as conn:  # the pool gave back a usable connection
        assert conn.one(READ, {"sid": "SMquick3"}).body == CANARY_BODY


def sids() -> list[str]:
    db.session.commit()
    return sorted(db.session.scalars(select(InboundJournal.provider_sid)))


def test_statements_of_one_block_without_a_transaction_commit_one_by_one(ctx):
    with pytest.raises(quick.INTEGRITY_ERRORS), quick.connection(transaction=False) as conn:
        conn.run(INSERT, entry("SMquick4", utcnow()))
        conn.run(INSERT, entry("SMquick4b", utcnow()))
        assert sids() == ["SMquick4", "SMquick4b"]  # committed, seen from another connection
        conn.run(INSERT, entry("SMquick4", utcnow()))  # a duplicate: fails
    assert sids() == ["SMquick4", "SMquick4b"]  # no rollback undid them


def test_a_block_without_a_transaction_may_begin_one_for_two_writes(ctx):
    if db.engine.dialect.name == "postgresql":
        pytest.skip("used on SQLite only (PostgreSQL's such blocks write once)")
    with quick.connection(transaction=False) as conn:
        conn.begin()
        conn.run(INSERT, entry("SMquick7", utcnow()))
        conn.run(INSERT, entry("SMquick7b", utcnow()))
        assert sids() == []  # not yet committed
    assert sids() == []  # rolled back when the block ended
    with quick.connection(transaction=False) as conn:
        conn.begin()
        conn.run(INSERT, entry("SMquick7", utcnow()))
        conn.run(INSERT, entry("SMquick7b", utcnow()))
        conn.commit()
    assert sids() == ["SMquick7", "SMquick7b"]


def test_a_calls_answer_is_compressed_then_encrypted_and_older_answers_still_read(ctx):
    answer = "<Response>" + "<Say>Canary Tiên Yên, phím 3.</Say>" * 60 + "</Response>"
    contact = Contact(channel="voice", provider="test", provider_sid="CAquick1", answer=answer)
    old = Contact(channel="voice", provider="test", provider_sid="CAquick2")
    db.session.add_all([contact, old])
    db.session.commit()
    # An answer stored before answers were compressed: plain text under Fernet.
    db.session.execute(
        text("UPDATE contact SET answer = :a WHERE provider_sid = 'CAquick2'"),
        {"a": keyring.encrypt("<Response/>")},
    )
    db.session.commit()
    db.session.expire_all()
    stored = db.session.execute(
        text("SELECT answer FROM contact WHERE provider_sid = 'CAquick1'")
    ).scalar_one()
    assert "Canary" not in stored
    assert len(stored) < len(answer) / 3  # what makes it stay in its row
    assert db.session.get(Contact, contact.id).answer == answer
    assert db.session.get(Contact, old.id).answer == "<Response/>"


def test_a_pooled_connection_idle_for_a_while_is_pinged_and_replaced_when_dead(ctx, monkeypatch):
    engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("a SQLite file cannot drop its connections")
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(1) or real_ping(c))
    engine.dispose()  # one connection in the pool from here on
    with quick.connection() as conn:
        pid = conn.one(Statement("SELECT pg_backend_pid() AS pid"), {}).pid
    with quick.connection() as conn:  # used a moment ago: no ping
        assert conn.one(Statement("SELECT pg_backend_pid() AS pid"), {}).pid == pid
    assert pings == []
    # The server drops it while it sits in the pool, longer than the idle limit.
    other = create_engine(engine.url, poolclass=NullPool)
    with other.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()
    monkeypatch.setattr(pool, "IDLE_PING_SECONDS", 0.05)
    time.sleep(0.1)
    with quick.connection() as conn:
        fresh = conn.one(Statement("SELECT pg_backend_pid() AS pid"), {}).pid
    assert pings and fresh != pid


def test_the_driver_sees_the_time_as_the_orm_does(ctx):
    """A timestamp written by the ORM and compared on the driver (the conversation gap)."""
    contact = Contact(channel="sms", provider="test", caller_hash="cd" * 32)
    db.session.add(contact)
    db.session.commit()
    read = Statement(
        "SELECT updated_at FROM contact WHERE id = :id",
        columns={"updated_at": Contact.__table__.c.updated_at.type},
    )
    with quick.connection() as conn:
        seen = conn.one(read, {"id": contact.id}).updated_at
    assert abs(utcnow() - seen) < timedelta(minutes=1) and seen == contact.updated_at


def test_a_connection_that_died_in_use_is_thrown_away_not_given_back(ctx):
    engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("a SQLite file cannot drop its connections")
    engine.dispose()  # one connection in the pool from here on
    pid_of = Statement("SELECT pg_backend_pid() AS pid")
    with quick.connection() as conn:
        pid = conn.one(pid_of, {}).pid
    other = create_engine(engine.url, poolclass=NullPool)
    with other.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()
    # Used again at once (no ping): the statement fails, the webhook would spool…
    with pytest.raises(engine.dialect.loaded_dbapi.OperationalError), quick.connection() as conn:
        conn.one(pid_of, {})
    # … and the next request gets a new connection, not the dead one.
    with quick.connection() as conn:
        assert conn.one(pid_of, {}).pid != pid


def test_the_orm_gets_its_connection_back_transactional(ctx):
    """A block of self-committing statements must not leave the pooled connection that
    way: the ORM session using it next would commit what it rolls back."""
    db.engine.dispose()  # one connection in the pool from here on
    with quick.connection(transaction=False) as conn:
        conn.run(INSERT, entry("SMquick5", utcnow()))
        conn.commit()
    db.session.add(InboundJournal(provider="test", provider_sid="SMquick6", decision={}))
    db.session.flush()
    db.session.rollback()
    assert (
        db.session.scalar(select(func.count()).where(InboundJournal.provider_sid == "SMquick6"))
        == 0
    )
