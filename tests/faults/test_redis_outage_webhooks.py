"""Redis down during a burst of signed SMS and voice webhooks: the webhooks need only the
database, so every contact is recorded once; the alerts go out once when Redis is back."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlalchemy import select

from hotline.telephony.spool import pending_files
from models import Alert, Case, Contact, Message, db
from tests.conftest import wait_for
from tests.webhooks import BASE, Twilio, reply_text, spoken, xml


@pytest.fixture
def web(app, private_redis, tmp_path):
    """The service (same database) whose Redis is the private server."""
    from hotline import create_app

    web = create_app(
        {
            "REDIS_URL": private_redis.url,
            "PUBLIC_BASE_URL": BASE,
            "TWILIO_AUTH_TOKEN": app.config["TWILIO_AUTH_TOKEN"],
        }
    )
    web.instance_path = str(tmp_path / "instance")  # its own spool (expected to stay empty)
    return Twilio(web, web.test_client())


def test_webhooks_while_redis_is_down_are_recorded_once_and_alerts_sent_once(
    web, private_redis, directory, fake_twilio, start_worker
):
    worker = start_worker(TEST_REDIS_URL=private_redis.url)
    private_redis.stop()
    try:
        sms_sids, call_sids = [], []
        for n in range(4):
            sid = f"SM{n:02d}" + "e" * 30
            for _ in range(2):  # Twilio delivers each webhook twice
                response = web.sms("Tôi ở Tiên Yên", sid, sender=f"+849007772{n:02d}")
                assert response.status_code == 200 and "113" in reply_text(response)
            sms_sids.append(sid)
            call = "CA" + f"{n:02d}" + "e" * 30
            for _ in range(2):
                response = web.call(call, sender=f"+849007773{n:02d}")
                assert response.status_code == 200
                assert "113" in spoken(xml(response))
            call_sids.append(call)
        with web.app.app_context():
            assert pending_files() == []  # handled at once, nothing left for a replay
        time.sleep(2)
        assert fake_twilio.messages == []  # no Redis, no job yet
    finally:
        private_redis.start()

    db.session.remove()
    inbound = db.session.scalars(select(Message.provider_sid).where(Message.direction == "in"))
    assert Counter(inbound) == Counter(sms_sids)  # each once, despite the repeats
    calls = db.session.scalars(select(Contact.provider_sid).where(Contact.channel == "voice"))
    assert Counter(calls) == Counter(call_sids)
    references = list(db.session.scalars(select(Case.reference)))
    assert len(references) == len(sms_sids)  # one case per SMS conversation

    try:
        wait_for(lambda: len(fake_twilio.messages) >= len(references), timeout=60)
    except AssertionError:
        tail = worker.log.read_text(errors="replace")[-4000:]
        raise AssertionError(f"{len(fake_twilio.messages)} sent; log:\n{tail}") from None
    time.sleep(2)  # and nothing more arrives
    assert worker.poll() is None
    bodies = [m.form["Body"] for m in fake_twilio.messages]
    assert len(bodies) == len(references)
    for reference in references:
        assert sum(reference in b for b in bodies) == 1
    assert set(db.session.scalars(select(Alert.status))) == {"sent"}
