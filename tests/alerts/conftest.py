"""Fixtures for alerts, escalation and follow-ups: the demo directory, the fake Twilio API
and real worker processes (``flask --app app worker``) pointed at it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from hotline.cases.intake import create_case, parse_case_body
from hotline.dev.demo import load_demo
from models import Case, ServicePoint, db
from tests import factories
from tests.conftest import ROOT

FLASK = str(Path(sys.executable).parent / "flask")

CANARY_NOTE = factories.CANARY_NOTE
CANARY_SAFE_PHONE = factories.CANARY_PHONE
SAFE_E164 = "+84900777111"


def case_body(**overrides) -> dict:
    """The shared test body: referral and reporting consent, no follow-up."""
    return factories.case_body(
        **{
            "needs": ["counselling", "psychosocial"],
            "consent": {"referral": True, "follow_up": False, "reporting": True},
            "safe_contact": {"channel": "none"},
            **overrides,
        }
    )


def new_case(**overrides) -> Case:
    """A case created exactly as the API does it (validate, route, one commit)."""
    case, _ = create_case(parse_case_body(case_body(**overrides)), actor="test")
    db.session.commit()
    return case


def point(code: str) -> ServicePoint:
    return db.session.scalar(db.select(ServicePoint).where(ServicePoint.code == code))


def wait_for(condition: Callable[[], object], timeout: float = 30, interval: float = 0.1):
    """Poll ``condition`` (in a fresh DB session each time) until it is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.remove()
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@pytest.fixture
def directory(ctx):
    load_demo()


@pytest.fixture
def worker_env(service_env, fake_twilio) -> dict[str, str]:
    """Environment for worker processes: the fake Twilio API and short retry intervals."""
    return {
        **os.environ,
        **service_env,
        "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
        "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
        "TWILIO_API_BASE_URL": fake_twilio.url,
        "TWILIO_SMS_FROM": "+18005550100",
        "PUBLIC_BASE_URL": "https://hotline.test",
        "SMS_RETRY_INTERVALS": "0,1,1,2,2,3,3,5,5",
    }


@pytest.fixture
def run_burst(worker_env) -> Callable[..., subprocess.CompletedProcess]:
    """Run ``flask --app app worker --burst`` until the queues are empty."""

    def run(**env: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [FLASK, "--app", "app", "worker", "--burst"],
            cwd=ROOT,
            env={**worker_env, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    return run


@pytest.fixture
def start_worker(worker_env, tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start long-running workers (their own process group); all are stopped at the end.
    Each one's log is ``proc.log`` (shown when a test fails)."""
    started: list[subprocess.Popen] = []

    def start(**env: str) -> subprocess.Popen:
        log = tmp_path / f"worker-{len(started)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [FLASK, "--app", "app", "worker"],
                cwd=ROOT,
                env={**worker_env, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc.log = log  # type: ignore[attr-defined]
        started.append(proc)
        return proc

    yield start
    for proc in started:
        stop_worker(proc)


def descendants(pid: int) -> list[int]:
    """Processes started by ``pid``, recursively (RQ's job process leaves its group)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_worker(proc: subprocess.Popen) -> None:
    """SIGKILL a worker we started and every process it started (job, scheduler), as a
    power cut or the kernel's OOM killer would."""
    for pid in [proc.pid, *descendants(proc.pid)]:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=10)
    if proc.stderr:
        proc.stderr.close()


def stop_worker(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop one worker we started (its process group: the worker, its job and scheduler)."""
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    if proc.stderr:
        proc.stderr.close()


@contextmanager
def config(app, **values):
    saved = {k: app.config[k] for k in values}
    app.config.update(values)
    try:
        yield
    finally:
        app.config.update(saved)
