"""A PostgreSQL server that accepts the connection and then never answers (host hung,
network cut half-way): a webhook still answers with the emergency numbers, well inside
Twilio's 15 s, and keeps the request for replay — it does not hold a server thread."""

from __future__ import annotations

import socket
import threading

import pytest

from hotline.telephony.spool import pending_files
from tests.webhooks import BASE, Twilio, reply_text

TWILIO_LIMIT_SECONDS = 15


@pytest.fixture
def silent_postgres():
    """A TCP port whose kernel completes the handshake but nobody ever reads or writes."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def test_sms_webhook_answers_safely_when_the_database_never_answers(
    silent_postgres, service_env, monkeypatch, tmp_path
):
    from hotline import create_app

    monkeypatch.setenv("TEST_DATABASE_URL", f"postgresql://nobody@127.0.0.1:{silent_postgres}/x")
    app = create_app({"PUBLIC_BASE_URL": BASE, "REDIS_URL": "redis://127.0.0.1:9/0"})
    app.instance_path = str(tmp_path / "instance")  # a spool of its own
    answers = []

    def post() -> None:
        twilio = Twilio(app, app.test_client())
        answers.append(
            twilio.sms("Tôi ở Tiên Yên", "SM" + "9" * 32, sender="+84900123987", process=False)
        )

    caller = threading.Thread(target=post, daemon=True)
    caller.start()
    caller.join(TWILIO_LIMIT_SECONDS - 1)

    assert not caller.is_alive(), "the webhook hung on a database that never answers"
    (response,) = answers
    assert response.status_code == 200 and "113" in reply_text(response)
    with app.app_context():
        assert len(pending_files()) == 1  # kept for replay once the database is back
