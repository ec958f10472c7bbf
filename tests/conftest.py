"""Fixtures: a real database and a real Redis for every test.

``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` select PostgreSQL and Redis (CI sets them);
without them the suite runs on SQLite and the embedded Valkey server, exactly what a
fresh machine has. The schema is built by the Alembic migrations, not by ``create_all``,
so the migrations are tested on both databases.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
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


#: Kept for the whole session: the places, and generated keys that processes cache.
_KEPT_TABLES = {
    "district",
    "old_commune",
    "commune",
    "commune_merge",
    "alembic_version",
    "app_secret",
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
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in _KEPT_TABLES:
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
