"""Two messages from one number handled at the same moment (a person sending "alo" and then
their commune a second later; Twilio delivers both at once): one conversation, one case."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from hotline.demo import load_demo
from hotline.privacy import number_hash
from models import Case, Contact, OutboxItem, db
from tests.telephony.conftest import Twilio, reply_text

ROUNDS = 8


@pytest.fixture
def directory(ctx):
    load_demo()
    db.session.commit()


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
    # No place question is left waiting to hand a second case to the provincial centre.
    timeouts = db.session.scalars(
        select(OutboxItem).where(
            OutboxItem.job == "hotline.telephony.jobs.place_question_timeout",
            OutboxItem.status == "pending",
        )
    ).all()
    routed_ids = {c.id for c in contacts}
    assert all(item.payload["contact_id"] in routed_ids for item in timeouts)
