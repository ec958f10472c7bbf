"""Two messages from one number handled at the same moment (a person sending "alo" and then
their commune a second later; Twilio delivers both at once): one conversation, one case."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import select

from hotline.conversations.journal import route_unanswered
from hotline.privacy import number_hash
from models import Case, Contact, OutboxItem, db
from tests.webhooks import Twilio, reply_text

ROUNDS = 8


def test_simultaneous_messages_from_one_sender_share_one_conversation(app, twilio, directory):
    senders = [f"+8490066{n:04d}" for n in range(ROUNDS)]
    answers: list[tuple[int, str]] = []
    failures: list[BaseException] = []

    def send(sender: str, sid: str, body: str, gate: threading.Barrier) -> None:
        try:
            with app.test_client() as client:
                gate.wait(timeout=30)
                response = Twilio(app, client).sms(body, sid, sender=sender)
                answers.append((response.status_code, reply_text(response)))
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    for n, sender in enumerate(senders):
        gate = threading.Barrier(2)
        threads = [
            threading.Thread(target=send, args=(sender, f"SM{n:04d}a{'0' * 27}", "alo", gate)),
            threading.Thread(
                target=send, args=(sender, f"SM{n:04d}b{'0' * 27}", "Tôi ở Tiên Yên", gate)
            ),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

    assert failures == []
    assert len(answers) == 2 * ROUNDS
    assert all(status == 200 for status, _text in answers)

    db.session.remove()
    hashes = {number_hash(s) for s in senders}
    contacts = db.session.scalars(select(Contact).where(Contact.channel == "sms")).all()
    per_sender = Counter(c.caller_hash for c in contacts)
    assert set(per_sender) == hashes
    assert set(per_sender.values()) == {1}, "a sender's messages opened two conversations"
    assert {c.status for c in contacts} == {"routed"}
    cases = Counter(db.session.scalars(select(Case.contact_id)))
    assert sorted(cases) == sorted(c.id for c in contacts)
    assert set(cases.values()) == {1}
    # A place question left waiting (the "alo" was handled first) hands nothing to the
    # provincial centre when its 15 minutes are up: the conversation was routed.
    timeouts = db.session.scalars(
        select(OutboxItem).where(
            OutboxItem.job == "conversations.place_timeout",
            OutboxItem.status == "pending",
        )
    ).all()
    for item in timeouts:
        assert route_unanswered(**item.payload) is False
    db.session.commit()
    assert Counter(db.session.scalars(select(Case.contact_id))) == cases


def test_place_question_timeout_racing_the_answer_gives_one_case(app, twilio, directory):
    """The 15-minute timeout hands the conversation to the provincial centre at the moment
    the sender's answer arrives: one of them routes it, the other finds it routed."""
    sender = "+84900667788"
    asked = twilio.sms("alo", "SM" + "e" * 32, sender=sender)
    assert asked.status_code == 200
    item = db.session.scalars(
        select(OutboxItem).where(OutboxItem.job == "conversations.place_timeout")
    ).one()
    db.session.commit()
    timeout_routed = threading.Event()
    release = threading.Event()
    answers = []
    failures: list[BaseException] = []

    def timeout_job() -> None:  # the job's work, holding its transaction open
        try:
            with app.app_context():
                assert route_unanswered(**item.payload) is True
                timeout_routed.set()
                release.wait(30)
                db.session.commit()
        except BaseException as exc:
            failures.append(exc)
            timeout_routed.set()

    def answer() -> None:
        try:
            with app.test_client() as client:
                answers.append(
                    Twilio(app, client).sms("Tôi ở Tiên Yên", "SM" + "f" * 32, sender=sender)
                )
        except BaseException as exc:
            failures.append(exc)

    job = threading.Thread(target=timeout_job)
    job.start()
    assert timeout_routed.wait(30)
    reply = threading.Thread(target=answer)
    reply.start()
    reply.join(0.5)  # the answer waits for the job's transaction (or would race it)
    release.set()
    job.join(30)
    reply.join(30)

    assert failures == []
    assert answers[0].status_code == 200
    db.session.remove()
    contact = db.session.scalars(select(Contact).where(Contact.channel == "sms")).one()
    assert contact.status == "routed"
    assert db.session.scalars(select(Case.contact_id)).all() == [contact.id]
