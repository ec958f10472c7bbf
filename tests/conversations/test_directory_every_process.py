"""A directory edit is seen by the next webhook in every web process (issue 16): the
routing directory is cached per process, keyed by the directory's version, which each
SMS and each voice menu step reads with the sender's or the call's state.

Two real gunicorn servers (separate processes, each with its own cache) share the test
database; both route a place (so both caches hold the directory), the point they named
is closed, and the next SMS and the next call's place answer in each name another point.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import select, update

from models import ServicePoint, db
from tests.conftest import ROOT, _free_port
from tests.webhooks import BASE, HOTLINE

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
PLACE = "Tôi ở Tiên Yên, chồng tôi đánh tôi"
numbers = count(1)


@pytest.fixture
def servers(app, service_env, directory, tmp_path) -> Iterator[list[int]]:
    """Two single-process gunicorn servers of the app under test."""
    env = {**os.environ, **service_env, "PUBLIC_BASE_URL": BASE}
    procs, ports = [], []
    for n in range(2):
        port = _free_port()
        log = open(tmp_path / f"web-{n}.log", "wb")  # noqa: SIM115 - closed with the process
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "app:app",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        ports.append(port)
    try:
        for port, proc in zip(ports, procs, strict=True):
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                        break
                except OSError:
                    assert proc.poll() is None, "gunicorn exited"
                    assert time.monotonic() < deadline, "gunicorn did not come up"
                    time.sleep(0.2)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


def post(app, port: int, path: str, form: dict[str, str]) -> str:
    from hotline.telephony.twilio.signature import sign

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=urlencode(form).encode(),
        headers={"X-Twilio-Signature": sign(BASE + path, form, app.config["TWILIO_AUTH_TOKEN"])},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        assert response.status == 200
        return response.read().decode()


def said(twiml: str) -> str:
    root = ET.fromstring(twiml)  # noqa: S314 - the app's own TwiML
    return " ".join(e.text or "" for tag in ("Message", "Say") for e in root.iter(tag))


def sms(app, port: int) -> str:
    n = next(numbers)
    form = {
        "MessageSid": f"SM{n:032x}",
        "From": f"+8490555{n:04d}",
        "To": HOTLINE,
        "Body": PLACE,
        "NumMedia": "0",
    }
    return said(post(app, port, "/twilio/sms", form))


def call_place(app, port: int) -> str:
    n = next(numbers)
    form = {"CallSid": f"CA{n:032x}", "From": f"+8490666{n:04d}", "To": HOTLINE}
    post(app, port, "/twilio/voice", form)
    post(app, port, "/twilio/voice/menu?n=1", {**form, "Digits": "2"})
    return said(post(app, port, "/twilio/voice/place?n=2", {**form, "SpeechResult": "Tiên Yên"}))


def active_names() -> list[str]:
    db.session.remove()
    return list(db.session.scalars(select(ServicePoint.name).where(ServicePoint.active)))


def test_a_directory_edit_is_seen_by_the_next_webhook_in_every_process(app, servers):
    names = active_names()
    before = [sms(app, port) for port in servers] + [call_place(app, port) for port in servers]
    named = {name for name in names for text in before if name in text}
    assert len(named) == 1, before  # every process named the same point
    (closed,) = named
    db.session.execute(
        update(ServicePoint).where(ServicePoint.name == closed).values(active=False)
    )
    db.session.commit()

    after = [sms(app, port) for port in servers] + [call_place(app, port) for port in servers]
    for text in after:
        assert closed not in text, text
        assert any(name in text for name in active_names()), text
