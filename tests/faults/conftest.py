"""Fixtures for fault tests: a private PostgreSQL cluster and a private Valkey server that
a test may stop and start (the shared servers are never touched)."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.dev.embedded import start_embedded_redis
from tests.conftest import _free_port


def _pg_bin() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        path = Path(candidate)
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    return None


class PrivatePostgres:
    """A throwaway cluster on loopback, owned by this test run."""

    def __init__(self, bin_dir: Path, root: Path, run_as: list[str]) -> None:
        self.bin = bin_dir
        self.run_as = run_as
        self.data = root / "data"
        self.sockets = root
        self.log = root / "postgres.log"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self.run_as, *args], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise AssertionError(result.stdout[-2000:] + result.stderr[-2000:] + log)

    def init(self) -> None:
        self._run(str(self.bin / "initdb"), "-A", "trust", "-U", "postgres", "-D", str(self.data))

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
            "-o", options, "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "30",
            "stop",
        )  # fmt: skip


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    run_as: list[str] = []
    # A short path (the Unix socket path must stay under ~100 characters), outside
    # pytest's root-only directory when the server has to run as another user.
    root = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
        runuser = shutil.which("runuser")
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            owner = None
        if runuser is None or owner is None:
            shutil.rmtree(root, ignore_errors=True)
            pytest.skip("running as root without a postgres user (and runuser) for initdb")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        run_as = [runuser, "-u", "postgres", "--"]
    server = PrivatePostgres(bin_dir, root, run_as)
    try:
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(Exception):  # stopped already, or never started
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


class PrivateRedis:
    """An embedded Valkey server on a fixed port, so it can be stopped and started again."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.server, self.url = start_embedded_redis(port=self.port)

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server, self.url = start_embedded_redis(port=self.port)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    try:
        yield redis
    finally:
        with contextlib.suppress(Exception):
            redis.stop()
