"""PostgreSQL restarted during a burst of signed SMS webhooks: every message is answered
(the emergency numbers while the database is down), spooled, replayed and recorded once."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from config import normalise_database_url
from hotline.telephony.spool import pending_files, replay_spool
from models import Alert, Case, Contact, Message, Referral, db
from tests.webhooks import BASE, Twilio, drain_journal, reply_text

PLACE = "Tôi ở Tiên Yên"
FOLLOW_UP = "cảm ơn"


@pytest.fixture
def pg_app(private_postgres, private_redis, service_env, tmp_path):
    """A dedicated app on the private PostgreSQL and Valkey, with its own spool."""
    from flask_migrate import upgrade

    from hotline import create_app
    from hotline.dev.demo import load_demo

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(private_postgres.url),
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                "connect_args": {"connect_timeout": 2},
            },
            "REDIS_URL": private_redis.url,
            "PUBLIC_BASE_URL": BASE,
        }
    )
    app.instance_path = str(tmp_path / "instance")  # the spool lives here, not shared
    with app.app_context():
        upgrade()
        load_demo()  # the places and the sample directory
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def sender(n: int) -> str:
    return f"+849007771{n:02d}"


def conversation(twilio: Twilio, n: int, *, process: bool = True) -> list[tuple[str, object]]:
    """One person's two messages (the place, then a thank-you): (MessageSid, response);
    the worker's processing of the journal follows each unless ``process`` is False."""
    sent = []
    for i, body in enumerate((PLACE, FOLLOW_UP)):
        sid = f"SM{n:02d}{i:02d}" + "f" * 28
        sent.append((sid, twilio.sms(body, sid, sender=sender(n), process=process)))
    return sent


def test_postgres_restart_during_sms_burst_records_every_message_once(pg_app, private_postgres):
    twilio = Twilio(pg_app, pg_app.test_client())
    before, during, after = range(0, 3), range(3, 6), range(6, 9)

    sids = []
    for n in before:
        for sid, response in conversation(twilio, n):
            assert response.status_code == 200
            assert "113" in reply_text(response)
            sids.append(sid)

    private_postgres.stop()
    try:
        spooled = []
        for n in during:
            for sid, response in conversation(twilio, n, process=False):
                assert response.status_code == 200
                assert "113" in reply_text(response)  # the fallback: emergency numbers
                spooled.append(sid)
        # Twilio retried one webhook that got no answer in time: the same MessageSid again.
        again = twilio.sms(PLACE, spooled[0], sender=sender(during[0]), process=False)
        assert again.status_code == 200 and "113" in reply_text(again)
        with pg_app.app_context():
            assert len(pending_files()) == len(spooled) + 1
    finally:
        private_postgres.start()
    sids.extend(spooled)

    for n in after:
        for sid, response in conversation(twilio, n):
            assert response.status_code == 200
            assert "113" in reply_text(response)
            sids.append(sid)

    with pg_app.app_context():
        assert replay_spool() == {"replayed": len(spooled) + 1, "failed": 0, "unreadable": 0}
        assert pending_files() == []
    drain_journal(pg_app)  # the worker makes the replayed messages into rows
    with pg_app.app_context():
        people = len(before) + len(during) + len(after)
        assert_recorded_once(sids, people)

        # A second replay (and a late Twilio retry of a replayed message) changes nothing.
        assert replay_spool() == {"replayed": 0, "failed": 0, "unreadable": 0}
    late = twilio.sms(PLACE, spooled[0], sender=sender(during[0]))
    assert late.status_code == 200
    with pg_app.app_context():
        assert_recorded_once(sids, people)


def assert_recorded_once(sids: list[str], people: int) -> None:
    db.session.remove()
    inbound = db.session.scalars(
        select(Message.provider_sid).where(Message.direction == "in")
    ).all()
    assert Counter(inbound) == Counter(sids)
    assert all(count == 1 for count in Counter(inbound).values())

    contacts = db.session.scalars(select(Contact).where(Contact.channel == "sms")).all()
    assert len(contacts) == people
    assert {c.status for c in contacts} == {"routed"}

    per_contact = Counter(db.session.scalars(select(Case.contact_id)))
    assert sorted(per_contact) == sorted(c.id for c in contacts)
    assert set(per_contact.values()) == {1}  # one case per conversation

    alerts_per_case = Counter(
        db.session.scalars(select(Referral.case_id).join(Alert, Alert.referral_id == Referral.id))
    )
    assert len(alerts_per_case) == people and set(alerts_per_case.values()) == {1}
    assert db.session.scalar(select(func.count()).select_from(Alert)) == people
