"""Benchmark of statistics and reports (DESIGN §10): with 1 000 000 cases on PostgreSQL,
any dashboard view and a half-year report in ≤ 1 s.

Prepare a database of your own once (never a test database), then run from the root:

    createdb -h 127.0.0.1 -U postgres bench_stats
    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_stats
    .venv/bin/flask --app app db upgrade && .venv/bin/flask --app app geo load
    .venv/bin/flask --app app stats synthesize --cases 1000000 --months 12 --end 2026-06
    .venv/bin/python bench/stats_bench.py [--period 2026-S1] [--rounds 5]

Each measurement starts cold (the in-process cache of suppressed reports is cleared) and
is repeated; medians and maxima are printed, and the peak Python memory of one more cold
run of each (tracemalloc, measured apart from the timed runs). The baseline is a plain
``count(*)`` of the period's consented cases straight from ``hotline_case`` (what any
report must beat).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_mib(fn, reset=None) -> float:
    """Peak Python memory allocated while ``fn`` runs once, cold (tracemalloc; measured
    in a separate run so it does not slow the timed ones)."""
    if reset:
        reset()
    tracemalloc.start()
    try:
        fn()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def timed(fn, rounds: int, reset=None) -> tuple[float, float]:
    runs = []
    for _ in range(rounds):
        if reset:
            reset()
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), max(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--period", default="2026-S1")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to your own PostgreSQL benchmark database")

    from sqlalchemy import func, select

    from hotline import create_app
    from hotline.accounts.users import create_user
    from hotline.reporting.exports import report_workbook
    from hotline.reporting.payload import dhis2_payload, json_payload
    from hotline.stats import report as report_module
    from hotline.stats.periods import parse_period
    from hotline.stats.report import build_report
    from hotline.stats.rollup import read_counts
    from models import Case, StatRollup, User, db
    from models.types import utcnow

    app = create_app()
    period = parse_period(args.period)
    reset = report_module._published.cache_clear
    with app.app_context():
        lo, hi = period.utc_bounds(app.config["HOTLINE_TIMEZONE"])
        cases = db.session.scalar(select(func.count(Case.id)))
        rollup_rows = db.session.scalar(select(func.count()).select_from(StatRollup))
        print(f"cases in the database: {cases:,}; rollup rows: {rollup_rows:,}")

        def baseline():
            db.session.scalar(
                select(func.count(Case.id)).where(
                    Case.consent_reporting.is_(True), Case.created_at >= lo, Case.created_at < hi
                )
            )

        user = db.session.scalar(select(User).where(User.username == "bench-manager"))
        if user is None:
            user = create_user("bench-manager", "bench password not secret", "manager")
        # A sample account needs no second factor outside production (never production).
        user.is_sample = True
        db.session.commit()
        uid = user.id
        from hotline.accounts.sessions import start_session

        sid = start_session(user, "bench")
        db.session.commit()

        measures = {
            f"baseline: count(*) of {period.code}'s consented cases": baseline,
            "rollup read (sum over the period)": lambda: read_counts(period),
            f"report {period.code} (read + suppression)": lambda: build_report(period),
            f"json payload {period.code}": lambda: json_payload(build_report(period), utcnow()),
            f"dhis2 payload {period.code}": lambda: dhis2_payload(build_report(period)),
            f"report workbook {period.code} (XLSX, with months)": lambda: report_workbook(
                build_report(period)
            ),
        }
        results = {name: timed(fn, args.rounds, reset) for name, fn in measures.items()}
        memory = {name: peak_mib(fn, reset) for name, fn in measures.items()}
        n_cases = build_report(period).value("cases")
    client = app.test_client()
    with client.session_transaction() as session:
        now = int(time.time())
        session.update(uid=uid, sid=sid, login_at=now, seen=now, csrf="bench")
    # The dashboard opens on the overview (KPIs against the previous period, indicators,
    # the month-by-month trend, the map and rankings); the detail tables are tabs.
    views = {
        f"overview {period.code}": f"/dashboard/?period={period.code}",
        f"overview {period.code}, district 193": f"/dashboard/?period={period.code}&district=193",
        "overview year 2026": "/dashboard/?period=2026",
        "overview month 2026-03 (year to date)": "/dashboard/?period=2026-03",
        "overview months 2025-08..2026-02": "/dashboard/?range=months&from=2025-08&to=2026-02",
        "overview 12 months 2025-07..2026-06": "/dashboard/?range=months&from=2025-07&to=2026-06",
        f"tab hotline {period.code} (month by month)": (
            f"/dashboard/?period={period.code}&tab=hotline"
        ),
        f"tab place {period.code}": f"/dashboard/?period={period.code}&tab=place",
        "tab hotline 12 months 2025-07..2026-06": (
            "/dashboard/?range=months&from=2025-07&to=2026-06&tab=hotline"
        ),
        f"printable report {period.code}": f"/dashboard/print?period={period.code}",
        f"CSV export {period.code}": f"/dashboard/export.csv?period={period.code}",
        f"XLSX export {period.code}": f"/dashboard/export.xlsx?period={period.code}",
    }

    def get(url):
        r = client.get(url)
        assert r.status_code == 200, r.status_code

    for name, url in views.items():
        results[name] = timed(lambda url=url: get(url), args.rounds, reset)
        memory[name] = peak_mib(lambda url=url: get(url), reset)
    print(f"consented cases in {period.code}: {n_cases:,}")
    print(f"{'measure':<58} {'median':>9} {'max':>9} {'peak mem':>10}")
    for name, (median, worst) in results.items():
        print(f"{name:<58} {median * 1000:>7.0f}ms {worst * 1000:>7.0f}ms {memory[name]:>7.1f}MiB")
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"process peak RSS: {max_rss:.0f} MiB (peak mem: Python allocations, tracemalloc)")


if __name__ == "__main__":
    main()
