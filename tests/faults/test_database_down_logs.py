"""While the database is down the worker keeps ticking (the relay ten times a second):
each failing task is logged once with its traceback, then once a minute with a count —
not thousands of tracebacks an hour."""

from __future__ import annotations

import logging
import time

import pytest

from hotline.jobs import periodic


@pytest.fixture
def app_without_database(service_env, tmp_path):
    from hotline import create_app

    # A SQLite file in a directory that does not exist: every query fails.
    missing = tmp_path / "gone" / "hotline.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}"})
    periodic._failures.clear()
    yield app
    periodic._failures.clear()


def test_a_task_failing_on_every_tick_is_logged_once_then_counted(app_without_database, caplog):
    with app_without_database.app_context(), caplog.at_level(logging.INFO):
        for _ in range(50):
            assert periodic.tick(burst=True) == 0

    failed = [r for r in caplog.records if "failed" in r.getMessage()]
    names = [r.getMessage().split()[2] for r in failed]
    assert "jobs.relay" in names and "alerts.escalate_due" in names
    assert len(names) == len(set(names)), "a failing task was logged more than once"
    assert all(r.exc_info for r in failed)  # the first one keeps its traceback

    # A minute later the same task logs again, saying how many failures it left out.
    for name in list(periodic._failures):
        _last, suppressed = periodic._failures[name]
        long_ago = time.monotonic() - periodic.FAILURE_LOG_INTERVAL - 1
        periodic._failures[name] = (long_ago, suppressed)
    caplog.clear()
    with app_without_database.app_context(), caplog.at_level(logging.INFO):
        periodic.tick(burst=True)
    again = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert again and all("49 more failures not logged" in m for m in again)
