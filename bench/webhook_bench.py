"""Benchmark (DESIGN §10): Twilio webhook latency and throughput on gunicorn, against a
baseline in the same run. Targets for ``/twilio/sms``: median ≤ 1.3× the baseline's,
throughput ≥ 70 % of it. Not a timed test.

Run from the project root:

    .venv/bin/python bench/webhook_bench.py [--clients 8] [--requests 200] [--rounds 5]
        [--write] [--database-url postgresql://…]

It starts, with the same gunicorn settings (``--workers 2 --threads 4``, loopback, free
ports), three servers: a minimal Flask app returning fixed TwiML (``bench/baseline_app.py``,
the target's baseline); the least a compliant webhook must do (``bench/floor_app.py``:
signature check, encrypted sender and text stored in one row and committed, fixed TwiML;
the "stored floor"); and the real app (``app:app``, ``HOTLINE_ENV=development``) on a
private instance: a SQLite file in a temporary directory (or ``--database-url``: an empty
database of your own, which it migrates and fills), a private embedded Valkey as
``REDIS_URL``, ``PUBLIC_BASE_URL`` set, after ``db upgrade``, ``geo load`` and
``demo load``. No worker runs: alerts stay in the outbox.

A bounded load generator (``--clients`` threads, each with its own keep-alive
``http.client`` connection, ``--requests`` requests per client, at most ``--max-seconds``
per phase) posts signed webhooks: ``/twilio/sms`` (a new MessageSid and sender each, a
Vietnamese message naming a place, so each creates a case and an alert) and
``/twilio/voice`` (a new CallSid each). The baseline gets the same requests. Each phase is
preceded by a warm-up; then the three servers take ``--rounds`` turns (5), a slice of the
requests each, in alternating order, so a machine that slows down for a minute weighs on
all three alike. Afterwards what the real app stored is counted (the SMS journal
entries and the calls' rows): an answer given from the fallback path (request spooled,
not stored) fails the run (exit 1).
With ``--write`` the table replaces this database's section of ``docs/BENCHMARKS.md``.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN  # noqa: E402
from hotline.telephony.twilio.signature import sign  # noqa: E402

PUBLIC = "https://hotline.bench"
PLACES = ["Tiên Yên", "Hạ Long", "Cẩm Phả", "Uông Bí", "Móng Cái", "Đông Triều", "Vân Đồn"]
BODIES = [
    "Tôi ở {place}, chồng tôi đánh tôi, cần giúp đỡ",
    "Em đang ở {place}, bị bạo lực gia đình, xin hãy giúp em",
    "Chị tôi ở {place} bị đánh tối qua, cần chỗ tạm lánh",
]
GUNICORN = ["--workers", "2", "--threads", "4", "--timeout", "30", "--keep-alive", "5"]
DOC = ROOT / "docs" / "BENCHMARKS.md"


def post_once(port: int, path: str, form: dict[str, str]) -> None:
    """One signed request outside the timed phases (a call's first step)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(PUBLIC + path, form, DEV_TWILIO_AUTH_TOKEN),
        }
        conn.request("POST", path, body=urlencode(form).encode(), headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status}")
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sms_form(n: int, run: str) -> dict[str, str]:
    place = PLACES[n % len(PLACES)]
    return {
        "MessageSid": f"SM{run}{n:020x}",
        "SmsSid": f"SM{run}{n:020x}",
        "AccountSid": DEV_TWILIO_ACCOUNT_SID,
        "From": f"+849{next(NUMBERS):08d}",
        "To": "+18001769",
        "Body": BODIES[n % len(BODIES)].format(place=place),
        "NumMedia": "0",
    }


def voice_form(n: int, run: str) -> dict[str, str]:
    return {
        "CallSid": f"CA{run}{n:020x}",
        "AccountSid": DEV_TWILIO_ACCOUNT_SID,
        "From": f"+848{next(NUMBERS):08d}",
        "To": "+18001769",
        "CallStatus": "ringing",
        "Direction": "inbound",
    }


def menu_form(n: int, run: str) -> dict[str, str]:
    """A call's next step: the caller pressed 2 in the main menu (the call exists)."""
    return {**voice_form(n, run), "CallStatus": "in-progress", "Digits": "2"}


NAMES = ("baseline", "stored floor", "hotline")
NUMBERS = itertools.count(1)  # a new sender for every request: each SMS opens a case
FORMS = {"sms": sms_form, "voice": voice_form, "voice-step": menu_form}
#: The URL each kind is posted to; the references store a step like an incoming call.
PATHS = {"sms": "/twilio/sms", "voice": "/twilio/voice", "voice-step": "/twilio/voice/menu?n=1"}


def path_of(kind: str, hotline: bool) -> str:
    return PATHS[kind] if hotline or kind != "voice-step" else "/twilio/voice"


@dataclass
class Result:
    latencies: list[float]
    seconds: float
    errors: int

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        xs = sorted(self.latencies)
        return xs[max(0, round(p * len(xs)) - 1)]


def merged(results: list[Result]) -> Result:
    """One server's turns as one result (latencies together, time and errors summed)."""
    return Result(
        [x for r in results for x in r.latencies],
        sum(r.seconds for r in results),
        sum(r.errors for r in results),
    )


def load(
    port: int,
    kind: str,
    clients: int,
    per_client: int,
    max_seconds: float,
    start_at: int,
    *,
    hotline: bool = False,
) -> Result:
    """``clients`` threads, each sending ``per_client`` signed requests on one keep-alive
    connection (or until ``max_seconds``); returns every completed request's latency.
    For ``voice-step`` on the hotline, each call is first made (its incoming-call request,
    before the clock starts), then its menu step is what is timed."""
    path = path_of(kind, hotline)
    run = uuid.uuid4().hex[:12]
    # Prepared before the clock starts: signing is the client's cost, not the server's.
    bodies = []
    for c in range(clients):
        mine = []
        for i in range(per_client):
            form = FORMS[kind](start_at + c * per_client + i, run)
            mine.append((urlencode(form), sign(PUBLIC + path, form, DEV_TWILIO_AUTH_TOKEN)))
            if kind == "voice-step" and hotline:
                start = {k: v for k, v in form.items() if k != "Digits"}
                post_once(port, "/twilio/voice", start)
        bodies.append(mine)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(mine: list[tuple[str, str]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine_lat = []
        bad = 0
        gate.wait()
        for body, signature in mine:
            if time.perf_counter() > deadline[0]:
                break
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            }
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body.encode(), headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            elapsed = time.perf_counter() - t0
            if response.status == 200:
                mine_lat.append(elapsed)
            else:
                bad += 1
        conn.close()
        with lock:
            latencies.extend(mine_lat)
            errors[0] += bad

    threads = [threading.Thread(target=client, args=(b,), daemon=True) for b in bodies]
    for t in threads:
        t.start()
    started = time.perf_counter()
    deadline[0] = started + max_seconds
    gate.wait()
    for t in threads:
        t.join(max_seconds + 60)
    return Result(latencies, time.perf_counter() - started, errors[0])


def wait_until_up(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def gunicorn(target: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    exe = str(Path(sys.executable).parent / "gunicorn")
    with log.open("ab") as out:
        return subprocess.Popen(
            [exe, target, "--bind", f"127.0.0.1:{port}", *GUNICORN],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def worker_memory(proc: subprocess.Popen) -> tuple[float, float]:
    """A gunicorn server's workers after the load: the largest peak RSS (``VmHWM``) and
    the sum of current RSS, in MiB (Linux ``/proc``)."""
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    peaks, current = [], []
    for pid in children:
        fields = {}
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _sep, value = line.partition(":")
            fields[key] = value.split()
        peaks.append(int(fields["VmHWM"][0]) / 1024)
        current.append(int(fields["VmRSS"][0]) / 1024)
    return max(peaks, default=0.0), sum(current)


#: Where the hotline keeps what each request received and answered.
STORED = ("inbound_journal", "contact", "webhook_receipt")


def count_rows(database_url: str, table: str) -> int:
    from sqlalchemy import create_engine, text

    from config import normalise_database_url

    engine = create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as conn:
            return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
    finally:
        engine.dispose()


def table_names(database_url: str) -> list[str]:
    from sqlalchemy import create_engine, inspect

    from config import normalise_database_url

    engine = create_engine(normalise_database_url(database_url))
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def table(rows: list[tuple[str, Result, Result, Result]]) -> list[str]:
    out = [
        "| endpoint | server | requests | median | mean | p95 | p99 | requests/s | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, base, floor, real in rows:
        for name, r in (("baseline", base), ("stored floor", floor), ("hotline", real)):
            out.append(
                f"| `{PATHS[kind]}` | {name} | {len(r.latencies)} | "
                f"{ms(statistics.median(r.latencies))} | {ms(statistics.fmean(r.latencies))} | "
                f"{ms(r.pct(0.95))} | {ms(r.pct(0.99))} | {r.rps:.0f} | {r.errors} |"
            )
    # The mean as well: on SQLite a server's latencies split into requests that found the
    # file's write lock free and requests that slept in its busy handler, and the median
    # falls on one side or the other from run to run (docs/BENCHMARKS.md).
    out += [
        "",
        "| endpoint | compared | median ratio | mean ratio | throughput share |",
        "|---|---|---:|---:|---:|",
    ]
    # DESIGN §10 (rewritten, issue 16): /twilio/sms median ≤ 2× the stored floor's and
    # throughput ≥ 50 % of it; /twilio/voice steps median ≤ 1.5× the floor's.
    targets = {"sms": (2.0, 0.5), "voice": (1.5, None), "voice-step": (1.5, None)}
    for kind, base, floor, real in rows:
        for label, r, ref, target in (
            ("hotline / stored floor", real, floor, targets.get(kind)),
            ("hotline / baseline", real, base, None),
            ("stored floor / baseline", floor, base, None),
        ):
            ratio = statistics.median(r.latencies) / statistics.median(ref.latencies)
            mean_ratio = statistics.fmean(r.latencies) / statistics.fmean(ref.latencies)
            share = r.rps / ref.rps
            max_ratio, min_share = target or (None, None)
            out.append(
                f"| `{PATHS[kind]}` | {label} | {ratio:.2f}×"
                + (
                    f" (target ≤ {max_ratio:g}×: {'met' if ratio <= max_ratio else 'NOT met'})"
                    if max_ratio
                    else ""
                )
                + f" | {mean_ratio:.2f}× | {share:.0%}"
                + (
                    f" (target ≥ {min_share:.0%}: {'met' if share >= min_share else 'NOT met'})"
                    if min_share
                    else ""
                )
                + " |"
            )
    return out


def write_section(lines: list[str], database: str) -> None:
    """Replace this database's section (between its markers) or append one."""
    start, end = (
        f"<!-- webhook_bench:{database}:start -->",
        f"<!-- webhook_bench:{database}:end -->",
    )
    section = "\n".join([start, *lines, end])
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--requests", type=int, default=200, help="requests per client (200)")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests per client")
    parser.add_argument("--max-seconds", type=float, default=60, help="cap per phase (60)")
    parser.add_argument(
        "--rounds", type=int, default=5, help="turns the servers take, alternating (5)"
    )
    parser.add_argument("--database-url", help="a PostgreSQL database of your own")
    parser.add_argument(
        "--kinds",
        default="sms,voice,voice-step",
        help="what to measure, comma-separated: sms, voice (incoming call), voice-step",
    )
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    parser.add_argument("--keep", action="store_true", help="leave the servers up (profiling)")
    args = parser.parse_args()

    from hotline.dev.embedded import start_embedded_redis

    if args.database_url and table_names(args.database_url):
        # Its keys would live in an earlier run's temporary instance directory.
        raise SystemExit(
            "--database-url must name an empty database, e.g.\n"
            "  dropdb --if-exists -h 127.0.0.1 -U postgres bench_web && "
            "createdb -h 127.0.0.1 -U postgres bench_web"
        )
    instance = Path(tempfile.mkdtemp(prefix="webhook-bench-"))
    database_url = args.database_url or f"sqlite:///{instance / 'bench.sqlite3'}"
    valkey, redis_url = start_embedded_redis()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TEST_"))},
        "HOTLINE_ENV": "development",
        "HOTLINE_INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": PUBLIC,
    }
    flask = str(Path(sys.executable).parent / "flask")
    log = instance / "bench.log"
    for command in (["db", "upgrade"], ["geo", "load"], ["demo", "load"]):
        with log.open("ab") as out:
            subprocess.run(
                [flask, "--app", "app", *command], cwd=ROOT, env=env, check=True, stdout=out
            )
    from cryptography.fernet import Fernet

    floor_env = {
        **env,
        "FLOOR_DATABASE_URL": database_url,
        "FLOOR_KEY": Fernet.generate_key().decode(),
        "FLOOR_AUTH_TOKEN": DEV_TWILIO_AUTH_TOKEN,
        "FLOOR_PUBLIC_BASE_URL": PUBLIC,
    }
    base_port, floor_port, real_port = free_port(), free_port(), free_port()
    procs = [
        gunicorn("bench.baseline_app:app", base_port, env, log),
        gunicorn("bench.floor_app:app", floor_port, floor_env, log),
        gunicorn("app:app", real_port, env, log),
    ]
    rows = []
    warm: dict[str, float] = {}
    try:
        for port, proc in zip((base_port, floor_port, real_port), procs, strict=True):
            wait_until_up(port, proc)
        # What the hotline stores per request: the journal entry (SMS), the call's row with
        # its answer (voice; a receipt when a step ran the full way).
        receipts_before = sum(count_rows(database_url, t) for t in STORED)
        sent = floor_sent = 0
        offset = 0
        for kind in args.kinds.split(","):
            for port in (base_port, floor_port, real_port):  # warm-up
                load(
                    port,
                    kind,
                    args.clients,
                    args.warmup,
                    args.max_seconds,
                    offset,
                    hotline=port == real_port,
                )
                offset += 1_000_000
            if not warm:  # warm: caches filled, every worker has served requests
                servers = zip(NAMES, procs, strict=True)
                warm = {name: worker_memory(proc)[1] for name, proc in servers}
            sent += args.clients * args.warmup
            floor_sent += args.clients * args.warmup
            # The three servers take turns, a slice of the requests each, in alternating
            # order: this machine speeds up and slows down by the minute, and a server
            # measured alone in a slow minute would look slow.
            per_round = max(1, args.requests // args.rounds)
            results: dict[int, list[Result]] = {base_port: [], floor_port: [], real_port: []}
            for r in range(args.rounds):
                turns = (base_port, floor_port, real_port)
                for port in turns if r % 2 == 0 else turns[::-1]:
                    results[port].append(
                        load(
                            port,
                            kind,
                            args.clients,
                            per_round,
                            args.max_seconds / args.rounds,
                            offset,
                            hotline=port == real_port,
                        )
                    )
                    offset += 1_000_000
            base, floor, real = (
                merged(results[port]) for port in (base_port, floor_port, real_port)
            )
            for name, result in (("baseline", base), ("stored floor", floor), ("hotline", real)):
                if not result.latencies:
                    raise SystemExit(f"{name}: no request answered 200 (log: {log})")
            # Each request stores one row; a menu step changes its call's row, made (and
            # counted) by the call's first request, which was sent for every planned step.
            planned = args.clients * per_round * args.rounds
            sent += planned if kind == "voice-step" else len(real.latencies)
            floor_sent += len(floor.latencies)
            rows.append((kind, base, floor, real))
            print(
                f"{kind}: baseline {base.rps:.0f}/s median {ms(statistics.median(base.latencies))}"
                f"; floor {floor.rps:.0f}/s median {ms(statistics.median(floor.latencies))}"
                f"; hotline {real.rps:.0f}/s median {ms(statistics.median(real.latencies))}",
                file=sys.stderr,
            )
        memory = {name: worker_memory(proc) for name, proc in zip(NAMES, procs, strict=True)}
        stored = sum(count_rows(database_url, t) for t in STORED) - receipts_before
        floor_stored = count_rows(database_url, "bench_floor_received")
        spooled = sum(1 for f in (instance / "spool").rglob("*") if f.is_file())
        if args.keep:
            print(f"servers up: baseline :{base_port}, hotline :{real_port}; Enter to stop")
            input()
    finally:
        for proc in procs:
            stop(proc)
        valkey.stop()

    database = "PostgreSQL" if "postgres" in database_url else "SQLite (file)"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Measured {when} on {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; database {database}, embedded Valkey; gunicorn "
        f"`{' '.join(GUNICORN)}` for all three; {args.clients} concurrent keep-alive clients "
        f"on the same machine, {args.requests} requests each after {args.warmup} warm-up each, "
        f"in {args.rounds} turns per server (alternating order).",
        "",
        *table(rows),
        "",
        "| server | largest worker peak RSS (VmHWM) | all workers' RSS, warm → after the run |",
        "|---|---:|---:|",
        *(
            f"| {name} | {peak:.0f} MiB | {warm[name]:.0f} → {rss:.0f} MiB |"
            for name, (peak, rss) in memory.items()
        ),
        "",
        f"Hotline requests stored (SMS journal entries + calls): {stored} of {sent} sent "
        f"(warm-up included); requests spooled by the fallback path: {spooled}. "
        f"Stored floor rows: {floor_stored} of {floor_sent} sent.",
    ]
    print("\n".join(lines))
    ok = stored == sent and spooled == 0 and floor_stored == floor_sent
    if not ok:
        print(f"FAILED: the hotline did not store every request (log: {log})", file=sys.stderr)
    elif args.write:
        write_section(lines, "postgresql" if "postgres" in database_url else "sqlite")
        print(f"\nwritten to {DOC.relative_to(ROOT)}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
