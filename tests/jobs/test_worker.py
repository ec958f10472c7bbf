"""The worker process: a real RQ worker on real Redis, jobs inside an app context."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rq.job import Job

from hotline.jobs import registry
from hotline.jobs.queue import QUEUES, get_queue, redis_connection
from tests.conftest import ROOT

FLASK = str(Path(sys.executable).parent / "flask")


def run_worker_burst(service_env: dict[str, str]) -> subprocess.CompletedProcess:
    """The worker exactly as the Procfile runs it, until the queues are empty."""
    return subprocess.run(
        [FLASK, "--app", "app", "worker", "--burst"],
        cwd=ROOT,
        env={**os.environ, **service_env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_worker_runs_jobs_from_every_queue_with_database_access(app, service_env):
    with app.app_context():
        jobs = [registry.enqueue("system.heartbeat", queue=name) for name in QUEUES]
    result = run_worker_burst(service_env)
    assert result.returncode == 0, result.stderr[-2000:]
    with app.app_context():
        conn = redis_connection()
        for queued in jobs:
            job = Job.fetch(queued.id, connection=conn)
            assert job.get_status() == "finished", job.get_status()
            assert job.return_value() == {"districts": 13}


def test_worker_starts_rq_scheduler(app, service_env):
    result = run_worker_burst(service_env)
    assert result.returncode == 0
    assert "scheduler" in (result.stdout + result.stderr).lower()


def test_a_failed_job_leaves_no_personal_value_in_redis_or_logs(app, service_env):
    from tests.jobs_for_tests import CANARY

    with app.app_context():
        queued = get_queue("default").enqueue("tests.jobs_for_tests.fail_with_personal_value")
    result = run_worker_burst(service_env)
    assert CANARY not in result.stderr + result.stdout
    assert "ValueError" in result.stderr  # the failure is still logged, by type
    with app.app_context():
        conn = redis_connection()
        job = Job.fetch(queued.id, connection=conn)
        assert job.get_status() == "failed"
        stored = b"".join(conn.dump(key) or b"" for key in conn.keys("*"))
        assert "fail_with_personal_value: ValueError" in job.latest_result().exc_string
    assert CANARY.encode() not in stored
    assert b"canary-note" not in stored
