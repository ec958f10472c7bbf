"""Redis stopped while cases arrive: every case is stored and every alert goes out, once,
after Redis is back — with the same worker process, which waits instead of dying."""

from __future__ import annotations

import contextlib
import socket
import time

from hotline.dev.embedded import start_embedded_redis
from models import Alert, Case, db
from tests.conftest import wait_for
from tests.factories import ALERT_CASE, new_case


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_redis_down_while_cases_arrive_loses_nothing(directory, fake_twilio, start_worker):
    port = free_port()
    server, url = start_embedded_redis(port=port)  # our own server, to stop and restart
    try:
        worker = start_worker(TEST_REDIS_URL=url)
        first = new_case(base=ALERT_CASE).reference
        wait_for(lambda: len(fake_twilio.messages) == 1, timeout=20)

        server.stop()
        # No Redis needed to accept them.
        arrived = [new_case(base=ALERT_CASE).reference for _ in range(3)]
        time.sleep(3)
        assert len(fake_twilio.messages) == 1
        assert db.session.query(Case).count() == 4

        server, url = start_embedded_redis(port=port)
        try:
            wait_for(lambda: len(fake_twilio.messages) >= 4, timeout=60)
        except AssertionError:
            tail = worker.log.read_text(errors="replace")[-4000:]
            raise AssertionError(
                f"{len(fake_twilio.messages)} messages; worker log:\n{tail}"
            ) from None
        time.sleep(2)  # and nothing more arrives

        assert worker.poll() is None  # the same worker carried on
        bodies = [m.form["Body"] for m in fake_twilio.messages]
        assert len(bodies) == 4
        for reference in [first, *arrived]:
            assert sum(reference in b for b in bodies) == 1
        assert set(db.session.scalars(db.select(Alert.status))) == {"sent"}
    finally:
        with contextlib.suppress(Exception):  # already stopped
            server.stop()
