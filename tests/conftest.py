"""Fixtures: a real database and a real Redis for every test.

``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` select PostgreSQL and Redis (CI sets them);
without them the suite runs on SQLite and the embedded Valkey server, exactly what a
fresh machine has. The schema is built by the Alembic migrations, not by ``create_all``,
so the migrations are tested on both databases.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def service_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment for the app under test (also handed to subprocesses)."""
    instance = tmp_path_factory.mktemp("instance")
    env = {
        "HOTLINE_ENV": "test",
        "HOTLINE_INSTANCE_PATH": str(instance),
        "HOTLINE_CLI_LANG": "en",
    }
    database_url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{instance / 'test.sqlite3'}"
    env["TEST_DATABASE_URL"] = database_url
    server = None
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        from hotline.dev.embedded import start_embedded_redis

        server, redis_url = start_embedded_redis(port=_free_port())
    env["TEST_REDIS_URL"] = redis_url
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if server is not None:
            server.stop()


def _reset_schema(url: str) -> None:
    """Drop everything a previous run left, so the migrations run from empty."""
    from config import normalise_database_url

    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    engine = create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def app(service_env: dict[str, str]) -> Iterator[Flask]:
    from flask_migrate import upgrade

    from hotline import create_app
    from hotline.directory.places import load_places

    _reset_schema(service_env["TEST_DATABASE_URL"])
    app = create_app()
    with app.app_context():
        upgrade()
        load_places()
    yield app


#: Kept for the whole session: the places, generated keys that processes cache, and the
#: directory's version (processes cache the directory per version: it only moves on).
_KEPT_TABLES = {
    "district",
    "old_commune",
    "commune",
    "commune_merge",
    "alembic_version",
    "app_secret",
    "directory_version",
}


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with an empty directory, no users, no cases and empty queues."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    from hotline.jobs.queue import redis_connection
    from models import db

    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        for table in reversed(db.metadata.sorted_tables):
            if table.name in _KEPT_TABLES:
                continue
            if postgres and table.name == "audit_event":
                # A trigger refuses DELETE on the audit trail (migration 0012).
                db.session.execute(text("TRUNCATE audit_event"))
            else:
                db.session.execute(table.delete())
        db.session.commit()
        redis_connection(app).flushdb()
    yield
    with app.app_context():
        db.session.remove()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An application context for calling services directly."""
    with app.app_context():
        yield


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on."""
    return _free_port()


@pytest.fixture
def fake_twilio(app: Flask) -> Iterator:
    """A local fake of Twilio's REST API; the app's outbound messages go to it."""
    from tests.fakes.twilio_api import FakeTwilio

    fake = FakeTwilio().start()
    keys = (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_API_BASE_URL",
        "TWILIO_SMS_FROM",
        "PUBLIC_BASE_URL",
    )
    saved = {k: app.config[k] for k in keys}
    app.config.update(
        TWILIO_ACCOUNT_SID=fake.account_sid,
        TWILIO_AUTH_TOKEN=fake.auth_token,
        TWILIO_API_BASE_URL=fake.url,
        TWILIO_SMS_FROM="+18005550100",
        PUBLIC_BASE_URL="https://hotline.test",
    )
    try:
        yield fake
    finally:
        app.config.update(saved)
        fake.stop()


@pytest.fixture(autouse=True)
def _empty_spool(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts (and ends) with an empty fallback spool."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    shutil.rmtree(Path(app.instance_path) / "spool", ignore_errors=True)
    yield
    shutil.rmtree(Path(app.instance_path) / "spool", ignore_errors=True)


@pytest.fixture
def public_base(app: Flask) -> Iterator[str]:
    """The app behind ``https://hotline.test``, as Twilio sees it."""
    from tests.webhooks import BASE

    saved = app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = BASE
    try:
        yield BASE
    finally:
        app.config["PUBLIC_BASE_URL"] = saved


@pytest.fixture
def twilio(app: Flask, client, public_base):
    """Posts signed webhooks to the app like Twilio (:class:`tests.webhooks.Twilio`)."""
    from tests.webhooks import Twilio

    return Twilio(app, client)


@contextmanager
def config(app: Flask, **values):
    """Set configuration values for the duration of the block."""
    saved = {k: app.config[k] for k in values}
    app.config.update(values)
    try:
        yield
    finally:
        app.config.update(saved)


def wait_for(condition: Callable[[], object], timeout: float = 30, interval: float = 0.1):
    """Poll ``condition`` (in a fresh DB session each time) until it is truthy."""
    from models import db

    deadline = time.monotonic() + timeout
    while True:
        db.session.remove()
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


# --- data ----------------------------------------------------------------------------------


@pytest.fixture
def directory(ctx) -> None:
    """The demo directory (a service point of every kind in every commune) and demo users,
    committed; the test runs inside an application context."""
    from hotline.dev.demo import load_demo

    load_demo()


@pytest.fixture
def demo(app: Flask) -> Flask:
    """The demo directory and one user per role, plus a social worker of another commune;
    made in its own application context (the test runs outside one)."""
    from hotline.accounts.users import create_user
    from hotline.dev.demo import load_demo
    from models import ServicePoint, db
    from tests.webclient import OTHER_POINT, OTHER_SW, OTHER_SW_PASSWORD

    with app.app_context():
        load_demo()
        # Trusted addresses keep office hours; open them all day so routing does not depend
        # on when the suite runs (the routing tests cover opening hours).
        db.session.execute(
            db.update(ServicePoint)
            .where(ServicePoint.kind == "trusted_address")
            .values(hours="24/7")
        )
        create_user(
            OTHER_SW, OTHER_SW_PASSWORD, "social_worker", service_point_codes=[OTHER_POINT]
        )
        db.session.commit()
    return app


@pytest.fixture
def signed_in(app: Flask, demo) -> Callable:
    """``signed_in("operator")`` → a test client signed in as that role's demo user."""
    from tests.webclient import ROLE_USERS, sign_in

    def make(role_or_username: str):
        client = app.test_client()
        username = ROLE_USERS.get(role_or_username, role_or_username)
        response = sign_in(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return make


@pytest.fixture
def token_for(app: Flask, demo) -> Callable:
    """``token_for("operator")`` → the ``Authorization`` header of that role's demo user."""
    from hotline.accounts.users import issue_token
    from models import User, db
    from tests.webclient import ROLE_USERS

    def make(role_or_username: str) -> dict[str, str]:
        username = ROLE_USERS.get(role_or_username, role_or_username)
        with app.app_context():
            user = db.session.scalar(db.select(User).where(User.username == username))
            token = issue_token(user)
            db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def make_case(app: Flask, demo) -> Callable:
    """``make_case(**overrides)`` → the reference of a case made through the service by the
    demo operator (in its own application context)."""
    from models import User, db
    from tests.factories import new_case
    from tests.webclient import ROLE_USERS

    def make(**overrides) -> str:
        with app.app_context():
            operator = db.session.scalar(
                db.select(User).where(User.username == ROLE_USERS["operator"])
            )
            return new_case(actor=operator, **overrides).reference

    return make


@pytest.fixture
def report_case(directory) -> Callable:
    """``report_case(at=None, **overrides)`` → a committed case made through the service with
    the statistics canaries (:data:`tests.factories.REPORT_CANARIES`); ``at`` backdates it."""
    from tests.factories import REPORT_CASE, new_case

    def make(at: datetime | None = None, **overrides):
        return new_case(base=REPORT_CASE, at=at, **overrides)

    return make


def _token(username: str, password: str, role: str) -> str:
    from hotline.accounts.users import create_user, issue_token
    from models import db

    user = create_user(username, password, role)
    db.session.flush()
    token = issue_token(user)
    db.session.commit()
    return token


@pytest.fixture
def manager_token(ctx) -> str:
    return _token("stats-manager", "a long enough password 1", "manager")


@pytest.fixture
def operator_token(ctx) -> str:
    return _token("stats-operator", "a long enough password 2", "operator")


# --- worker processes ----------------------------------------------------------------------


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
    """``run_burst(**env)``: run ``flask --app app worker --burst`` until the queues are
    empty (``env`` is added to :func:`worker_env`); fails the test if the worker fails."""
    from tests.workers import FLASK

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
    from tests.workers import FLASK, stop_worker

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
