"""Run the whole service on one machine with embedded defaults: ``scripts/serve``.

Starts the embedded Redis-compatible server (unless ``REDIS_URL`` is set), applies
migrations, loads places and the demo data, then runs the web process (gunicorn, as in
production) and one worker, and stops everything together on Ctrl-C or when one dies.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from config import DEFAULT_INSTANCE_PATH
from hotline.dev.demo import DEMO_LOGINS

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _flask(*args: str, env: dict[str, str]) -> None:
    """Run one set-up command quietly; show its output only when it fails."""
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print(result.stdout + result.stderr, file=sys.stderr)
        raise subprocess.CalledProcessError(result.returncode, result.args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/serve", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--no-demo", action="store_true", help="Do not load the sample data.")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env.setdefault("HOTLINE_ENV", "development")
    env.setdefault("FLASK_APP", "app")
    if env["HOTLINE_ENV"] == "production":
        print("scripts/serve is for development; run the Procfile processes in production.")
        return 2
    instance = Path(env.get("HOTLINE_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH)

    server = None
    if not env.get("REDIS_URL"):
        from hotline.dev.embedded import start_embedded_redis

        server, env["REDIS_URL"] = start_embedded_redis(data_dir=instance / "valkey")
        print(f"Embedded Valkey (Redis-compatible) at {env['REDIS_URL']}", flush=True)

    children: list[subprocess.Popen] = []
    try:
        print("Preparing the database (migrations, places, demo data) …", flush=True)
        _flask("db", "upgrade", env=env)
        _flask("geo", "load", env=env)
        if not args.no_demo:
            _flask("demo", "load", env=env)
        children.append(
            subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "--bind",
                    f"{args.host}:{args.port}",
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                    "app:app",
                ],
                cwd=ROOT,
                env=env,
            )
        )
        children.append(subprocess.Popen([str(BIN / "flask"), "worker"], cwd=ROOT, env=env))
        url = f"http://{args.host}:{args.port}/"
        print(
            f"\nHotline 18001769 is running: open {url}  (health: {url}healthz)\n",
            flush=True,
        )
        if not args.no_demo:
            print("Demo logins (sample data, fictitious numbers):")
            for login in DEMO_LOGINS:
                print(f"  {login.role:<14} {login.username} / {login.password}")
        print("\nPress Ctrl-C to stop.", flush=True)

        stop = False

        def _stop(*_: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        while not stop:
            if any(c.poll() is not None for c in children):
                print("A process stopped; shutting down the others.", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"Set-up step failed: {' '.join(exc.cmd[1:])}", file=sys.stderr)
        return 1
    finally:
        for c in children:
            if c.poll() is None:
                c.terminate()
        for c in children:
            try:
                c.wait(timeout=15)
            except subprocess.TimeoutExpired:
                c.kill()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
