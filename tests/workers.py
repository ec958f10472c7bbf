"""Real worker processes (``flask --app app worker``) started by tests: stopping and killing
them with every process they started. The fixtures are in ``tests/conftest.py``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

FLASK = str(Path(sys.executable).parent / "flask")


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
