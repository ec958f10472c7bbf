"""The README's run command: web and worker on the embedded defaults, from nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from redis import Redis
from rq import Worker

from tests.conftest import ROOT, _free_port


@pytest.mark.slow
def test_dev_server_serves_health_runs_a_worker_and_stops_cleanly(tmp_path):
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "DATABASE_URL", "TEST_DATABASE_URL", "TEST_REDIS_URL")
    }
    env.update(HOTLINE_ENV="development", HOTLINE_INSTANCE_PATH=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotline.dev.server", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        redis_url = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.startswith("Embedded Valkey"):
                redis_url = line.split(" at ")[1].strip()
            if "Press Ctrl-C" in line:
                break
        text = "".join(output)
        assert f"http://127.0.0.1:{port}/" in text, text
        assert "demo-operator" in text and "demo-admin" in text
        health = None
        while time.monotonic() < deadline and health is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    health = json.load(r)
            except OSError:
                time.sleep(0.3)
        assert health == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
        conn = Redis.from_url(redis_url)
        while time.monotonic() < deadline and not Worker.all(connection=conn):
            time.sleep(0.3)
        assert len(Worker.all(connection=conn)) == 1
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, "".join(output) + rest
    assert (tmp_path / "hotline.sqlite3").exists()
