"""Benchmark (DESIGN §10): webhook received → alert handed to the Twilio API, p50/p95, with
one worker (``--workers N`` for more). Target: p95 ≤ 1 s. Not a timed test.

Run from the project root:

    .venv/bin/python bench/alerts_bench.py [--messages N] [--workers N]

It builds a private instance (SQLite file, embedded Valkey; or ``TEST_DATABASE_URL`` /
``TEST_REDIS_URL`` when set — a database and Redis db of its own: both are emptied),
loads the places and the demo directory, starts the local
fake of Twilio's REST API and **one** real worker process (``flask --app app worker``),
then posts N signed inbound SMS to ``/twilio/sms`` (each from a new number, naming a
commune, so each creates a case and an alert) one after another, with a random pause of
0–300 ms between them. For each, the latency is the time from just before the webhook
request to the moment the fake Twilio API received the alert's POST.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLACES = ["Tiên Yên", "Hạ Long", "Cẩm Phả", "Uông Bí", "Móng Cái", "Đông Triều", "Vân Đồn"]


def breakdown(app, handed: list[datetime]) -> dict[str, list[float]]:
    """The stages of each message's way to its alert, from what the database recorded:
    webhook → journal entry processed by the worker (case, referral, alert queued) →
    alert handed to RQ by the relay → the alert job's POST to the Twilio API."""
    from sqlalchemy import select

    from models import InboundJournal, OutboxItem, db

    def aware(t: datetime) -> datetime:
        return t if t.tzinfo else t.replace(tzinfo=UTC)

    with app.app_context():
        entries = db.session.execute(
            select(InboundJournal.received_at, InboundJournal.processed_at).order_by(
                InboundJournal.id
            )
        ).all()
        alerts = db.session.execute(
            select(OutboxItem.created_at, OutboxItem.enqueued_at)
            .where(OutboxItem.job == "alerts.send")
            .order_by(OutboxItem.id)
        ).all()
    stages: dict[str, list[float]] = {
        "webhook → worker made the case and alert": [],
        "→ relay handed the alert job to RQ": [],
        "→ job posted the SMS to the Twilio API": [],
    }
    for (received, processed), (_created, enqueued), sent in zip(
        entries, alerts, handed, strict=False
    ):
        if processed is None or enqueued is None:
            continue
        received, processed, enqueued = aware(received), aware(processed), aware(enqueued)
        stages["webhook → worker made the case and alert"].append(
            (processed - received).total_seconds()
        )
        stages["→ relay handed the alert job to RQ"].append((enqueued - processed).total_seconds())
        stages["→ job posted the SMS to the Twilio API"].append((sent - enqueued).total_seconds())
    return stages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    args = parser.parse_args()

    from hotline.dev.embedded import start_embedded_redis
    from tests.fakes.twilio_api import FakeTwilio

    instance = Path(tempfile.mkdtemp(prefix="alerts-bench-"))
    server = None
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        server, redis_url = start_embedded_redis()
    fake = FakeTwilio().start()
    env = {
        "HOTLINE_ENV": "test",
        "HOTLINE_INSTANCE_PATH": str(instance),
        "TEST_DATABASE_URL": os.environ.get("TEST_DATABASE_URL")
        or f"sqlite:///{instance / 'bench.sqlite3'}",
        "TEST_REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_API_BASE_URL": fake.url,
        "TWILIO_SMS_FROM": "+18005550100",
        "PUBLIC_BASE_URL": "https://hotline.bench",
    }
    os.environ.update(env)

    from flask_migrate import upgrade
    from sqlalchemy import text

    from hotline import create_app
    from hotline.dev.demo import load_demo
    from hotline.jobs.queue import redis_connection
    from hotline.telephony.twilio.signature import sign
    from models import db

    app = create_app()
    with app.app_context():
        if not env["TEST_DATABASE_URL"].startswith("sqlite"):
            with db.engine.begin() as conn:  # a database of its own: start from empty
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        load_demo()
        redis_connection().flushdb()

    flask = str(Path(sys.executable).parent / "flask")
    workers = [
        subprocess.Popen(
            [flask, "--app", "app", "worker"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(args.workers)
    ]
    client = app.test_client()
    rng = random.Random(18001769)  # noqa: S311 - pauses and places, nothing secret
    latencies: list[float] = []
    handed: list[datetime] = []  # when the fake Twilio API received each alert
    try:
        time.sleep(3)  # the worker starts
        url = "https://hotline.bench/twilio/sms"
        for i in range(args.messages):
            form = {
                "MessageSid": f"SM{i:032x}",
                "AccountSid": fake.account_sid,
                "From": f"+8490012{i:04d}",
                "To": "+18001769",
                "Body": f"Tôi ở {rng.choice(PLACES)}, cần giúp đỡ",
                "NumMedia": "0",
            }
            before = len(fake.messages)
            started = datetime.now(UTC)
            response = client.post(
                "/twilio/sms",
                data=form,
                headers={"X-Twilio-Signature": sign(url, form, fake.auth_token)},
            )
            if response.status_code != 200:
                raise SystemExit(f"webhook answered {response.status_code}")
            deadline = time.monotonic() + 10
            while len(fake.messages) == before:
                if time.monotonic() > deadline:
                    raise SystemExit(f"message {i}: no alert within 10 s")
                time.sleep(0.002)
            latencies.append((fake.messages[before].created_at - started).total_seconds())
            handed.append(fake.messages[before].created_at)
            time.sleep(rng.uniform(0, 0.3))
        stages = breakdown(app, handed)
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
        fake.stop()
        if server is not None:
            server.stop()

    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    database = "PostgreSQL" if "postgres" in env["TEST_DATABASE_URL"] else "SQLite"
    machine = f"{platform.platform()}, {os.cpu_count()} CPUs"
    print(f"machine: {machine}, Python {platform.python_version()}")
    print(f"database: {database}; redis: {'embedded Valkey' if server else redis_url}")
    count = "one worker" if args.workers == 1 else f"{args.workers} workers"
    print(f"webhook → alert handed to Twilio API, {len(latencies)} messages, {count}:")
    print(
        f"  p50 {p50 * 1000:.0f} ms   p95 {p95 * 1000:.0f} ms   max {latencies[-1] * 1000:.0f} ms"
    )
    print(f"  target p95 ≤ 1000 ms: {'met' if p95 <= 1.0 else 'NOT met'}")
    print("where the time goes (median, ms):")
    for name, values in stages.items():
        print(f"  {name:<44}{statistics.median(values) * 1000:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
