"""The Procfile's processes run as written (DESIGN.md section 4)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, _free_port

BIN = Path(sys.executable).parent


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_procfile_has_release_web_and_worker():
    entries = procfile()
    assert list(entries) == ["release", "web", "worker"]
    assert entries["release"] == "flask --app app db upgrade"
    assert entries["web"].startswith("gunicorn app:app --bind 0.0.0.0:$PORT")
    assert entries["worker"] == "flask --app app worker"


def run_entry(name: str, env: dict[str, str], **kw) -> subprocess.Popen:
    env = {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}
    return subprocess.Popen(["/bin/sh", "-c", "exec " + procfile()[name]], cwd=ROOT, env=env, **kw)


def test_release_applies_migrations(service_env, app):
    proc = run_entry("release", {**os.environ, **service_env})
    assert proc.wait(timeout=120) == 0


@pytest.mark.slow
def test_web_serves_health_on_port(service_env, app):
    port = _free_port()
    proc = run_entry("web", {**os.environ, **service_env, "PORT": str(port)})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, "gunicorn exited"
                assert time.monotonic() < deadline, "web did not come up"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
