"""The fallback endpoints work with the database and Redis down; the spool is replayed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hotline.telephony.spool import pending_files, replay_spool
from models import Case, Contact, OutboxItem, db
from tests.webhooks import BASE, CALLER, Twilio, drain_journal, reply_text, xml

CANARY = "canary-body-Nguyễn-Thị ở Tiên Yên"


@pytest.fixture
def broken_app(app, service_env, public_base):
    """The same service with its database and Redis unreachable."""
    from hotline import create_app

    broken = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 1}},
            "REDIS_URL": "redis://127.0.0.1:9/0",
            "PUBLIC_BASE_URL": BASE,
            "TWILIO_AUTH_TOKEN": app.config["TWILIO_AUTH_TOKEN"],
        }
    )
    return Twilio(broken, broken.test_client())


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_voice_fallback_gives_113_and_111_without_database_or_redis(broken_app, ctx):
    root = xml(broken_app.post("/twilio/fallback", {"CallSid": "CA" + "1" * 32, "From": CALLER}))
    says = root.findall("Say")
    assert says[0].get("language") == "vi-VN"
    assert "113" in says[0].text and "111" in says[0].text and "18001769" in says[0].text
    assert root.find("Hangup") is not None
    (spooled,) = pending_files()
    assert CALLER.encode() not in spooled.read_bytes()


def test_sms_fallback_answers_and_spools_encrypted(broken_app, ctx):
    form = {"MessageSid": "SM" + "1" * 32, "From": CALLER, "Body": CANARY}
    reply = reply_text(broken_app.post("/twilio/fallback/sms", form))
    assert "113" in reply and "111" in reply
    data = pending_files()[0].read_bytes()
    assert b"canary" not in data and b"900777123" not in data


def test_fallback_still_checks_the_signature(broken_app, ctx):
    response = broken_app.client.post("/twilio/fallback", data={"CallSid": "CA1"}, base_url=BASE)
    assert response.status_code == 403
    assert pending_files() == []


def test_primary_webhooks_spool_and_answer_safely_when_the_database_is_down(broken_app, ctx):
    sms = broken_app.sms(CANARY, "SM" + "2" * 32, process=False)
    assert sms.status_code == 200 and "113" in reply_text(sms)
    call = broken_app.call("CA" + "2" * 32)
    assert call.status_code == 200 and "113" in xml(call).find("Say").text
    assert len(pending_files()) == 2


def test_replay_feeds_spooled_sms_into_the_normal_flow_once(broken_app, twilio, directory):
    broken_app.post(
        "/twilio/fallback/sms", {"MessageSid": "SM" + "3" * 32, "From": CALLER, "Body": CANARY}
    )
    # Twilio tried the fallback twice for the same message.
    broken_app.post(
        "/twilio/fallback/sms", {"MessageSid": "SM" + "3" * 32, "From": CALLER, "Body": CANARY}
    )
    assert replay_spool() == {"replayed": 2, "failed": 0, "unreadable": 0}
    assert pending_files() == []
    assert drain_journal(twilio.app) == 1  # recorded once; the worker makes the rows
    assert count(Case) == 1 and count(Contact) == 1
    assert db.session.scalars(select(Case)).one().status == "referred"
    # The same message delivered again to the primary later creates nothing.
    twilio.sms(CANARY, "SM" + "3" * 32)
    assert count(Case) == 1


def test_replayed_call_is_recorded_with_a_callback_request(broken_app, directory, runner):
    broken_app.post("/twilio/fallback", {"CallSid": "CA" + "4" * 32, "From": CALLER})
    result = runner.invoke(args=["spool", "replay"])
    assert result.exit_code == 0, result.output
    assert "replayed 1" in result.output
    contact = db.session.scalars(select(Contact)).one()
    assert (contact.channel, contact.provider_sid, contact.status) == (
        "voice",
        "CA" + "4" * 32,
        "fallback",
    )
    assert contact.caller_number == CALLER and contact.callback_requested
    assert db.session.scalars(select(OutboxItem)).one().dedupe_key == f"callback:{contact.id}"
    assert replay_spool()["replayed"] == 0


def test_a_file_that_fails_to_replay_stays_for_the_next_run(
    broken_app, app, directory, monkeypatch
):
    broken_app.post(
        "/twilio/fallback/sms", {"MessageSid": "SM" + "5" * 32, "From": CALLER, "Body": "Tiên Yên"}
    )
    import hotline.telephony.twilio.handlers as handlers

    def boom(form):
        raise RuntimeError("database went away")

    monkeypatch.setattr(handlers, "sms", boom)
    assert replay_spool()["failed"] == 1
    assert len(pending_files()) == 1
    monkeypatch.undo()
    assert replay_spool()["replayed"] == 1
    drain_journal(app)
    assert count(Case) == 1


def test_two_replays_at_once_share_the_spool_without_errors(broken_app, app, directory):
    """The worker's replay and an administrator's ``spool replay`` may overlap: a file the
    other one took is skipped, never reported unreadable, and every message is stored once."""
    import threading

    from models import Message

    db.session.commit()
    sids = [f"SM{n:032d}" for n in range(30)]
    calls = [f"CA{n:032d}" for n in range(30)]
    for n, (sid, call) in enumerate(zip(sids, calls, strict=True)):
        sender = f"+8490055{n:04d}"
        broken_app.post("/twilio/fallback/sms", {"MessageSid": sid, "From": sender, "Body": "alo"})
        broken_app.post("/twilio/fallback", {"CallSid": call, "From": f"+8490056{n:04d}"})
    assert len(pending_files()) == len(sids) + len(calls)

    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def replay() -> None:
        try:
            with app.app_context():
                results.append(replay_spool())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=replay) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    assert errors == []
    assert [r["unreadable"] for r in results] == [0, 0]
    assert [r["failed"] for r in results] == [0, 0]
    assert pending_files() == []
    drain_journal(app)
    db.session.remove()
    stored = db.session.scalars(
        select(Message.provider_sid).where(Message.direction == "in")
    ).all()
    assert sorted(stored) == sorted(sids)
    voice = db.session.scalars(select(Contact).where(Contact.channel == "voice")).all()
    assert sorted(c.provider_sid for c in voice) == sorted(calls)
    assert all(c.status == "fallback" and c.callback_requested for c in voice)


def test_a_status_report_for_a_call_still_in_the_spool_is_replayed_after_it(
    broken_app, twilio, directory
):
    sid = "CA" + "6" * 32
    broken_app.post("/twilio/fallback", {"CallSid": sid, "From": CALLER})
    # The database is back; Twilio reports the end of the call before the spool is replayed.
    response = twilio.status(CallSid=sid, CallStatus="completed", CallDuration="42")
    assert response.status_code == 204
    assert len(pending_files()) == 2

    assert replay_spool() == {"replayed": 2, "failed": 0, "unreadable": 0}
    contact = db.session.scalars(select(Contact)).one()
    assert contact.provider_sid == sid and contact.duration_seconds == 42
    assert contact.ended_at is not None
    assert contact.status == "fallback" and contact.callback_requested


def test_a_status_report_for_an_unknown_call_is_not_kept_when_nothing_waits(twilio, ctx):
    response = twilio.status(CallSid="CA" + "7" * 32, CallStatus="completed")
    assert response.status_code == 204
    assert pending_files() == []
