"""PostgreSQL stopped and started again during a burst of signed Twilio webhooks served by a
real gunicorn (``--workers 2 --threads 4``), with a real worker sending staff SMS to the
fake Twilio API over HTTP.

Every SMS and call is answered with TwiML at once (the fallback, with 113, while the
database is down); every fallback answer is spooled; once PostgreSQL is back the worker
replays the spool, and every message, contact, case, alert and staff SMS exists exactly
once, also after the same spool is replayed a second time. No caller's number or message
reaches a staff SMS or a log.
"""

from __future__ import annotations

import http.client
import itertools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from config import normalise_database_url
from hotline.telephony.spool import SUFFIX
from hotline.telephony.twilio import twiml
from hotline.telephony.twilio.signature import sign
from models import Alert, Case, Contact, Message, OutboundSms, OutboxItem, Referral, User
from models.telephony import WebhookReceipt
from tests.conftest import ROOT, _free_port
from tests.webhooks import BASE, HOTLINE

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
#: Concurrent Twilio connections (keep-alive), as many as gunicorn has threads per worker.
CLIENTS = 4
#: Twilio gives up on a webhook after 15 s: every answer must come sooner, even with the
#: database gone (a hang would leave the caller with Twilio's own error message).
TWILIO_WAIT = 15
#: Generous: a shared, noisy two-core machine.
DEADLINE = 60
#: The worker's periodic spool replay (``hotline.jobs.periodic``): one run per 30 s across
#: workers, guarded by this Redis key. The test deletes it to make the run due now.
SPOOL_TASK_KEY = "hotline:periodic:telephony.replay_spool"
#: Distinctive words in the callers' messages: they must never reach a log or a staff SMS.
CANARIES = ("Zenobia", "Xylofon")


def sms_number(n: int) -> str:
    return f"+8490736{n:04d}"


def call_number(n: int) -> str:
    return f"+8490737{n:04d}"


def national(e164: str) -> str:
    """The digits common to every way of writing the number (+84…, 84…, 0…)."""
    return e164.removeprefix("+84")


def bodies(n: int) -> tuple[str, str]:
    """One person's two messages: the place (which routes the case), then a thank-you."""
    return f"Tôi ở Tiên Yên, tôi là Zenobia{n:04d}", f"cảm ơn, nhà Xylofon{n:04d}"


@dataclass
class Answer:
    kind: str  # "sms" or "voice"
    sid: str
    sender: str
    body: str
    fallback: bool


class Twilio:
    """Posts signed webhooks to gunicorn like Twilio: one keep-alive connection per thread.

    Each answer is checked as it arrives: HTTP 200, TwiML, 113 for the caller, and either
    the normal flow or the fallback (recorded on the :class:`Answer`)."""

    def __init__(self, port: int, token: str, fallback_sms: str, fallback_voice: str) -> None:
        self.port = port
        self.token = token
        self.fallback_sms = fallback_sms
        self.fallback_voice = fallback_voice
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self, fresh: bool = False) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TWILIO_WAIT + 15)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def post(self, path: str, form: dict[str, str]) -> str:
        body = urlencode(form).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(BASE + path, form, self.token),
        }
        for attempt in (1, 2):
            conn = self._connection(fresh=attempt == 2)
            started = time.monotonic()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except ConnectionError:
                # The server closed an idle keep-alive connection: send again on a new one
                # (Twilio too retries a request that got no answer).
                if attempt == 2:
                    raise
                continue
            seconds = time.monotonic() - started
            assert response.status == 200, (path, response.status, data[:300])
            assert response.getheader("Content-Type", "").startswith("text/xml"), path
            assert seconds < TWILIO_WAIT, f"{path} answered after {seconds:.1f} s"
            return data.decode()
        raise AssertionError("unreachable")

    def sms(self, sid: str, body: str, sender: str) -> Answer:
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": HOTLINE,
            "Body": body,
            "NumMedia": "0",
        }
        text = self.post("/twilio/sms", form)
        messages = parse(text).findall("Message")
        assert len(messages) == 1, text
        assert "113" in (messages[0].text or ""), text
        return Answer("sms", sid, sender, body, text == self.fallback_sms)

    def call(self, sid: str, sender: str) -> Answer:
        form = {
            "CallSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": HOTLINE,
            "CallStatus": "ringing",
            "Direction": "inbound",
        }
        text = self.post("/twilio/voice", form)
        root = parse(text)
        assert "113" in " ".join(s.text or "" for s in root.iter("Say")), text
        if text == self.fallback_voice:
            return Answer("voice", sid, sender, "", True)
        menu = root.find("Gather")  # the greeting and main menu
        assert menu is not None, text
        assert menu.get("action", "").startswith(BASE + "/twilio/voice/menu?"), text
        return Answer("voice", sid, sender, "", False)

    def close(self) -> None:
        for conn in self._connections:
            conn.close()


def parse(text: str) -> ET.Element:
    root = ET.fromstring(text)  # noqa: S314 - the app's own TwiML
    assert root.tag == "Response", text
    return root


def sms_sid(n: int, i: int) -> str:
    return "SM" + f"{n:04d}{i:02d}".ljust(32, "c")


def call_sid(n: int) -> str:
    return "CA" + f"{n:04d}".ljust(32, "c")


def converse(twilio: Twilio, n: int) -> list[Answer]:
    """Person ``n``'s two messages, in order, as Twilio delivers them."""
    return [twilio.sms(sms_sid(n, i), body, sms_number(n)) for i, body in enumerate(bodies(n))]


def ring(twilio: Twilio, n: int) -> list[Answer]:
    return [twilio.call(call_sid(n), call_number(n))]


def burst(pool: ThreadPoolExecutor, twilio: Twilio, numbers: Iterator[int]) -> list[Answer]:
    """Four SMS conversations and four calls at once, each from a new number."""
    futures = []
    for _ in range(4):
        futures.append(pool.submit(converse, twilio, next(numbers)))
        futures.append(pool.submit(ring, twilio, next(numbers)))
    return [a for f in futures for a in f.result()]


def burst_while(
    pool: ThreadPoolExecutor, twilio: Twilio, numbers: Iterator[int], action: Callable[[], None]
) -> list[Answer]:
    """Keep every connection busy with new conversations and calls while ``action``
    (stopping or starting PostgreSQL) runs, and for one more round after it."""
    done = threading.Event()

    def client() -> list[Answer]:
        answers: list[Answer] = []
        for _round in range(40):  # bounded, whatever the machine's speed
            finished = done.is_set()
            n = next(numbers)
            answers += converse(twilio, n) if n % 2 else ring(twilio, n)
            if finished:
                break
            time.sleep(0.05)
        return answers

    futures = [pool.submit(client) for _ in range(CLIENTS)]
    try:
        action()
    finally:
        done.set()
    return [a for f in futures for a in f.result()]


@dataclass
class Stack:
    env: dict[str, str]
    instance: Path
    port: int
    engine: Engine
    redis_url: str
    logs: list[Path]
    outputs: list[str]

    @property
    def spool(self) -> Path:
        return self.instance / "spool" / "telephony"

    def pending(self) -> list[Path]:
        if not self.spool.is_dir():
            return []
        return sorted(p for p in self.spool.iterdir() if p.name.endswith(SUFFIX))

    def session(self) -> Session:
        return Session(self.engine)

    def replay_now(self) -> None:
        """Make the worker's periodic spool replay due at its next tick."""
        conn = redis.Redis.from_url(self.redis_url)
        try:
            conn.delete(SPOOL_TASK_KEY)
        finally:
            conn.close()

    def worker_log(self) -> str:
        return self.logs[1].read_text(errors="replace")

    def log_text(self) -> str:
        texts = [p.read_text(errors="replace") for p in self.logs if p.exists()]
        return "\n".join(texts + self.outputs)

    def tails(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in self.logs
            if p.exists()
        )


def flask(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def wait_until_serving(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        assert proc.poll() is None, "gunicorn exited:\n" + log.read_text(errors="replace")
        assert time.monotonic() < deadline, "gunicorn did not come up"
        time.sleep(0.2)


def stop_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def stack(private_postgres, private_redis, worker_env, start_worker, tmp_path) -> Iterator[Stack]:
    """Gunicorn and one worker on the private PostgreSQL and Valkey, sharing one instance
    directory (the spool and the field keys), Twilio credentials of the fake Twilio API."""
    instance = tmp_path / "instance"
    env = {
        **worker_env,
        "HOTLINE_ENV": "development",
        "HOTLINE_INSTANCE_PATH": str(instance),
        # The configuration's own connect arguments bound a connection attempt to a
        # database that does not answer (config.POSTGRES_CONNECT_ARGS).
        "DATABASE_URL": private_postgres.url,
        "REDIS_URL": private_redis.url,
        "PUBLIC_BASE_URL": BASE,
    }
    outputs = [flask(env, "db", "upgrade"), flask(env, "demo", "load")]

    port = _free_port()
    web_log = tmp_path / "gunicorn.log"
    with web_log.open("wb") as out:
        web = subprocess.Popen(
            [
                str(BIN / "gunicorn"), "app:app", "--bind", f"127.0.0.1:{port}",
                "--workers", "2", "--threads", "4", "--timeout", "30", "--keep-alive", "5",
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    engine = create_engine(normalise_database_url(private_postgres.url), poolclass=NullPool)
    try:
        worker = start_worker(**env)
        wait_until_serving(port, web, web_log)
        yield Stack(env, instance, port, engine, private_redis.url, [web_log, worker.log], outputs)
        assert worker.poll() is None, "the worker died"
        assert web.poll() is None, "gunicorn died"
    finally:
        stop_group(web)
        engine.dispose()


def test_postgres_stopped_during_webhook_burst_on_gunicorn_loses_and_repeats_nothing(
    stack, private_postgres, fake_twilio, app, tmp_path
):
    with app.app_context():  # the exact fallback TwiML, to tell it from the normal flow
        fallback_sms, fallback_voice = twiml.fallback_sms(), twiml.fallback_voice()
    twilio = Twilio(stack.port, fake_twilio.auth_token, fallback_sms, fallback_voice)
    numbers = itertools.count(1)
    answers: list[Answer] = []
    pool = ThreadPoolExecutor(CLIENTS)
    try:
        before = burst(pool, twilio, numbers)
        assert not any(a.fallback for a in before)
        answers += before

        answers += burst_while(pool, twilio, numbers, private_postgres.stop)

        during = burst(pool, twilio, numbers)
        # One person texts the place now and thanks after the restart (before any replay).
        split = next(numbers)
        place, thanks = bodies(split)
        during.append(twilio.sms(sms_sid(split, 0), place, sms_number(split)))
        # Twilio retries a message and a call that got no answer in time: same ids.
        first_sms = next(a for a in during if a.kind == "sms")
        first_call = next(a for a in during if a.kind == "voice")
        during.append(twilio.sms(first_sms.sid, first_sms.body, first_sms.sender))
        during.append(twilio.call(first_call.sid, first_call.sender))
        assert all(a.fallback for a in during)
        answers += during

        # Every fallback answer so far was spooled, and stays spooled while the worker's
        # replay fails on the missing database.
        spooled = stack.pending()
        assert len(spooled) == sum(a.fallback for a in answers)
        stack.replay_now()
        wait(
            lambda: stack.worker_log().count("spool replay failed") >= len(spooled),
            stack,
            "failed replay",
        )
        assert stack.pending() == spooled
        kept = tmp_path / "spool-copy"
        kept.mkdir()
        for path in spooled:
            shutil.copy2(path, kept / path.name)

        answers += burst_while(pool, twilio, numbers, private_postgres.start)

        after = burst(pool, twilio, numbers)
        after.append(twilio.sms(sms_sid(split, 1), thanks, sms_number(split)))
        assert not any(a.fallback for a in after)
        answers += after
    finally:
        pool.shutdown(wait=True)
        twilio.close()

    sms_sids = Counter(a.sid for a in answers if a.kind == "sms")
    senders = {a.sender for a in answers if a.kind == "sms"}
    callers = {a.sender for a in answers if a.kind == "voice"}
    calls: dict[str, list[bool]] = {}
    for a in answers:
        if a.kind == "voice":
            calls.setdefault(a.sid, []).append(a.fallback)
    fallback_calls = {sid for sid, fell_back in calls.items() if all(fell_back)}
    assert sms_sids[first_sms.sid] == 2 and len(calls[first_call.sid]) == 2
    assert fallback_calls and len(fallback_calls) < len(calls)

    with stack.session() as s:
        operators = s.scalars(
            select(User.id).where(
                User.role == "operator",
                User.on_duty.is_(True),
                User.active.is_(True),
                User.phone.is_not(None),
            )
        ).all()
    assert operators  # the demo's operator on duty: fallback calls get them a callback SMS
    expected_texts = len(senders) + len(fallback_calls) * len(operators)

    def settled() -> bool:
        if stack.pending():
            return False
        with stack.session() as s:
            inbound = s.scalar(
                select(func.count()).select_from(Message).where(Message.direction == "in")
            )
            voice = s.scalar(
                select(func.count()).select_from(Contact).where(Contact.channel == "voice")
            )
            unsent = s.scalar(
                select(func.count()).select_from(OutboundSms).where(OutboundSms.status != "sent")
            )
        return (
            inbound == len(sms_sids)
            and voice == len(calls)
            and unsent == 0
            and len(fake_twilio.messages) >= expected_texts
        )

    stack.replay_now()
    wait(settled, stack, "replay and staff SMS")
    time.sleep(3)  # and nothing more arrives
    assert len(fake_twilio.messages) == expected_texts, stack.tails()
    assert not (stack.spool / "failed").exists()

    snapshot = assert_recorded_once(
        stack, fake_twilio, sms_sids, senders, callers, calls, fallback_calls, operators
    )

    # The same spool replayed a second time (by the worker again) changes nothing.
    for path in kept.iterdir():
        shutil.copy2(path, stack.spool / path.name)
    assert len(stack.pending()) == len(spooled)
    stack.replay_now()
    wait(lambda: not stack.pending(), stack, "second replay")
    time.sleep(3)
    assert not (stack.spool / "failed").exists()
    again = assert_recorded_once(
        stack, fake_twilio, sms_sids, senders, callers, calls, fallback_calls, operators
    )
    assert again == snapshot
    assert len(fake_twilio.messages) == expected_texts

    # No caller's number or words in the web or worker logs (nor the commands' output).
    logs = stack.log_text()
    assert "spooled" in logs and "webhook failed" in logs  # the logs are the right ones
    for a in answers:
        assert national(a.sender) not in logs, "a caller's number is in a log"
        if a.body:
            assert a.body not in logs, "a message is in a log"
    for word in CANARIES:
        assert word not in logs, "a message is in a log"


def wait(condition: Callable[[], bool], stack: Stack, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {DEADLINE} s\n{stack.tails()}")
        time.sleep(0.25)


def assert_recorded_once(
    stack: Stack,
    fake_twilio,
    sms_sids: Counter,
    senders: set[str],
    callers: set[str],
    calls: dict[str, list[bool]],
    fallback_calls: set[str],
    operators: list[int],
) -> dict[str, int]:
    """Every message, contact, case, alert and staff SMS exactly once; returns row counts."""
    with stack.session() as s:
        inbound = Counter(s.scalars(select(Message.provider_sid).where(Message.direction == "in")))
        assert inbound == Counter(set(sms_sids))  # each MessageSid once, retries included

        contacts = s.execute(
            select(Contact.id, Contact.status).where(Contact.channel == "sms")
        ).all()
        assert len(contacts) == len(senders)  # one conversation per sender
        assert {status for _id, status in contacts} == {"routed"}
        per_contact = Counter(s.scalars(select(Case.contact_id)))
        assert set(per_contact) == {cid for cid, _status in contacts}
        assert set(per_contact.values()) == {1}  # one case per conversation

        alerts = s.execute(
            select(Case.reference, Alert.provider_sid, Alert.status)
            .join(Referral, Referral.case_id == Case.id)
            .join(Alert, Alert.referral_id == Referral.id)
        ).all()
        assert Counter(ref for ref, _sid, _st in alerts) == Counter(
            s.scalars(select(Case.reference))
        )  # one alert per case
        assert {st for _ref, _sid, st in alerts} <= {"sent", "delivered"}

        voice = s.execute(
            select(Contact.id, Contact.provider_sid, Contact.status, Contact.callback_requested)
            .where(Contact.channel == "voice")
        ).all()  # fmt: skip
        assert Counter(sid for _id, sid, _st, _cb in voice) == Counter(set(calls))
        for _id, sid, status, callback in voice:
            if sid in fallback_calls:  # heard only the fallback: known from the spool
                assert (status, callback) == ("fallback", True), sid
            else:
                assert (status, callback) == ("in_progress", False), sid

        staff = s.execute(select(OutboundSms.provider_sid, OutboundSms.purpose, OutboundSms.key))
        by_sid = {sid: (purpose, key) for sid, purpose, key in staff}
        callback_keys = {
            f"callback:{cid}:{op}"
            for cid, sid, _st, _cb in voice
            if sid in fallback_calls
            for op in operators
        }
        counts = {
            model.__name__: s.scalar(select(func.count()).select_from(model))
            for model in (Message, Contact, Case, Referral, Alert, OutboundSms, OutboxItem)
        }
        counts["WebhookReceipt"] = s.scalar(select(func.count()).select_from(WebhookReceipt))

    sent = fake_twilio.messages
    assert len({m.sid for m in sent}) == len(sent)
    assert all(m.sid in by_sid for m in sent)  # every SMS Twilio took is a recorded one
    assert Counter(by_sid[m.sid][0] for m in sent) == {
        "alert": len(alerts),
        "callback": len(callback_keys),
    }
    assert {by_sid[m.sid][1] for m in sent if by_sid[m.sid][0] == "callback"} == callback_keys
    texts = {m.sid: m.form["Body"] for m in sent}
    for reference, sid, _status in alerts:
        assert reference in texts[sid]  # the alert carries its case reference …
        assert sum(reference in body for body in texts.values()) == 1  # … and only one does
    everything = " ".join(m.form["Body"] + " " + m.form["To"] for m in sent)
    for number in senders | callers:
        assert national(number) not in everything, "a caller's number in a staff SMS"
    for word in CANARIES:
        assert word not in everything, "a caller's message in a staff SMS"
    return counts
