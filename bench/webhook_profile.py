"""Profile (DESIGN §10, issue 16): SQL statements and CPU time per webhook request, in one
process, without the network — what each request costs the server, not its latency.

    .venv/bin/python bench/webhook_profile.py [--requests 300] [--database-url URL]
        [--top 0]

It prepares a private instance like ``bench/webhook_bench.py`` (SQLite file in a temporary
directory, or ``--database-url``: an empty database of your own; ``db upgrade``,
``geo load``, ``demo load``), then calls the app's WSGI entry point with signed requests
built beforehand: SMS naming a place from a new sender each (each becomes a journal entry
the worker would turn into a case), and calls: the incoming call (greeting) and its next
two steps (the menu key 2, the place keyed). Each request of the stored floor
(``bench/floor_app.py``) alternates with one of the hotline's, so a machine that speeds up
or slows down weighs on both alike. It counts the SQL statements each kind of request runs
(SQLAlchemy's engine event and ``models.quick``'s observers) and the process CPU time per
request (the server's work only: building and signing the request are not timed), on
PostgreSQL also the CPU its backends spent on the request (each backend's own clock,
``/proc/<pid>/schedstat``: PostgreSQL runs on the same machine), and prints one table.
``--top N`` also prints the N most expensive functions of the SMS requests (cProfile of
process CPU, cumulative; ``PROFILE_SORT=tottime``, ``PROFILE_TIMER=wall``,
``PROFILE_DUMP=file`` to keep it for ``pstats``; ``--profile voice`` for the calls'
steps).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlencode

from werkzeug.test import EnvironBuilder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PUBLIC = "https://hotline.bench"


def prepare(database_url: str | None) -> dict[str, str]:
    from hotline.dev.embedded import start_embedded_redis

    instance = Path(tempfile.mkdtemp(prefix="webhook-profile-"))
    _valkey, redis_url = start_embedded_redis()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TEST_"))},
        "HOTLINE_ENV": "development",
        "HOTLINE_INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url or f"sqlite:///{instance / 'profile.sqlite3'}",
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": PUBLIC,
    }
    flask = str(Path(sys.executable).parent / "flask")
    for command in (["db", "upgrade"], ["geo", "load"], ["demo", "load"]):
        subprocess.run(
            [flask, "--app", "app", *command],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return env


def mean_ms(seconds: list[float]) -> float:
    return 1000 * sum(seconds) / len(seconds)


def backends_cpu(database_url: str | None):
    """For PostgreSQL: a function giving the CPU seconds used so far by the backends of
    this database (the app's and the floor's pooled connections), from the kernel's
    nanosecond clock of each (``/proc/<pid>/schedstat``); None for SQLite, whose work is
    the process's own."""
    if not database_url or not database_url.startswith("postgres"):
        return None
    import psycopg

    watcher = psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True)

    def used() -> float:
        pids = watcher.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
        total = 0
        for (pid,) in pids:
            with suppress(OSError):  # a backend that just ended
                total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        return total / 1e9

    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url")
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--profile", choices=("sms", "voice"), default="sms")
    parser.add_argument("--callees", help="also print what functions matching this call")
    args = parser.parse_args()
    os.environ.update(prepare(args.database_url))
    from cryptography.fernet import Fernet
    from sqlalchemy import event

    from config import DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN

    os.environ.update(
        FLOOR_DATABASE_URL=os.environ["DATABASE_URL"],
        FLOOR_KEY=Fernet.generate_key().decode(),
        FLOOR_PUBLIC_BASE_URL=PUBLIC,
        FLOOR_AUTH_TOKEN=DEV_TWILIO_AUTH_TOKEN,
    )
    from app import app
    from bench.floor_app import app as floor_app
    from bench.floor_app import engine as floor_engine
    from hotline.telephony.twilio.signature import sign
    from models import db, quick

    token = app.config["TWILIO_AUTH_TOKEN"]
    clients = {"hotline": app.test_client(), "floor": floor_app.test_client()}
    client = clients["hotline"]
    counted = [0]

    def count(*_args, **_kwargs) -> None:
        counted[0] += 1

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    event.listen(floor_engine, "before_cursor_execute", count)
    quick.observers.append(count)  # the webhooks' statements on the driver itself

    def sms(n: int) -> list[tuple[str, dict[str, str]]]:
        return [
            (
                "/twilio/sms",
                {
                    "MessageSid": f"SM{n:032x}",
                    "AccountSid": DEV_TWILIO_ACCOUNT_SID,
                    "From": f"+849{n:08d}",
                    "To": "+18001769",
                    "Body": "Tôi ở Tiên Yên, chồng tôi đánh tôi, cần giúp đỡ",
                    "NumMedia": "0",
                },
            )
        ]

    def call(n: int) -> list[tuple[str, dict[str, str]]]:
        base = {
            "CallSid": f"CA{n:032x}",
            "AccountSid": DEV_TWILIO_ACCOUNT_SID,
            "From": f"+848{n:08d}",
            "To": "+18001769",
            "CallStatus": "in-progress",
            "Direction": "inbound",
        }
        return [
            ("/twilio/voice", base),
            ("/twilio/voice/menu?n=1", {**base, "Digits": "2"}),
            ("/twilio/voice/place?n=2", {**base, "Digits": "3"}),
        ]

    # Process CPU, not wall time: time spent waiting for the database is not this
    # process's cost (``PROFILE_TIMER=wall`` for wall time).
    timer = time.perf_counter if os.environ.get("PROFILE_TIMER") == "wall" else time.process_time
    profile = cProfile.Profile(timer)
    cpu: dict[str, list[float]] = {}
    statements: dict[str, int] = {}

    def request(path: str, form: dict[str, str]) -> dict:
        """A signed request's WSGI environ, built before any clock starts."""
        return EnvironBuilder(
            path=path,
            base_url=PUBLIC,
            method="POST",
            data=urlencode(form),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": sign(PUBLIC + path, form, token)},
        ).get_environ()

    def answer(client, environ: dict) -> None:
        status: list[str] = []
        b"".join(client.application(environ, lambda s, _h, _e=None: status.append(s)))
        assert status[0].startswith("200"), status

    database_cpu = backends_cpu(args.database_url)
    db_cpu: dict[str, list[float]] = {}

    def measure(name: str, path: str, form: dict[str, str], client, profiled: bool) -> None:
        """One request, timed from the WSGI call to the last byte of the answer: the
        server's own work (and PostgreSQL's, from its backends' own clocks)."""
        environ = request(path, form)
        before_db = database_cpu() if database_cpu else 0.0
        before_sql, before_cpu = counted[0], time.process_time()
        if profiled:
            profile.enable()
        answer(client, environ)
        if profiled:
            profile.disable()
        cpu.setdefault(name, []).append(time.process_time() - before_cpu)
        if database_cpu:
            db_cpu.setdefault(name, []).append(database_cpu() - before_db)
        statements[name] = statements.get(name, 0) + counted[0] - before_sql

    for kind, make in (("sms", sms), ("voice", call)):
        for n in range(20):  # warm-up: caches, prepared statements, imports
            answer(clients["floor"], request(*make(20_000_000 + n)[0]))
            for path, form in make(10_000_000 + n + (0 if kind == "sms" else 1_000_000)):
                answer(client, request(path, form))
        # The floor's request and the hotline's alternate, so a machine that speeds up or
        # slows down during the run (this one does) weighs on both alike.
        for n in range(args.requests):
            path, form = make(30_000_000 + n)[0]
            measure(f"floor ({kind})", path, form, clients["floor"], False)
            for i, (path, form) in enumerate(make(n + (0 if kind == "sms" else 5_000_000))):
                name = f"{kind} step {i + 1}" if kind == "voice" else kind
                measure(name, path, form, client, kind == args.profile and bool(args.top))
    dialect = args.database_url.split(":")[0] if args.database_url else "sqlite"
    print(f"\n{dialect}: {args.requests} requests of each kind (after 20 warm-up)")
    header = f"{'request':<16}{'statements':>12}{'CPU ms':>10}"
    print(header + ("  PostgreSQL CPU ms" if db_cpu else ""))
    for name, times in cpu.items():
        line = f"{name:<16}{statements[name] / len(times):>12.1f}{mean_ms(times):>10.2f}"
        if db_cpu:
            line += f"{mean_ms(db_cpu[name]):>19.2f}"
        print(line)
    if args.top:
        out = io.StringIO()
        order = os.environ.get("PROFILE_SORT", "cumulative")
        stats = pstats.Stats(profile, stream=out).sort_stats(order)
        stats.print_stats(args.top)
        if os.environ.get("PROFILE_DUMP"):
            profile.dump_stats(os.environ["PROFILE_DUMP"])
        if args.callees:
            stats.print_callees(args.callees)
        print(out.getvalue())


if __name__ == "__main__":
    main()
