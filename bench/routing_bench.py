"""Benchmark of the routing engine (DESIGN §10): decision ≤ 0.2 ms, resolution ≤ 1 ms median.

Run from the project root:

    .venv/bin/python bench/routing_bench.py [--rounds N]

Place resolution runs over every message of ``tests/routing/corpus.tsv``; the routing decision
over a fictitious directory of one trusted address per 2025 commune plus 12 other points, for
a mix of places (commune, split old commune, district, unknown), needs, risks, ages and times.
Each call is timed with ``time.perf_counter_ns``; medians and 95th percentiles are printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from routing.hours import parse_hours  # noqa: E402
from routing.places import load_gazetteer  # noqa: E402
from routing.resolve import resolve_place  # noqa: E402
from routing.select import Directory, ServicePoint, choose_service_point  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CORPUS = ROOT / "tests" / "routing" / "corpus.tsv"


def directory_points() -> tuple[ServicePoint, ...]:
    """54 trusted addresses and 12 other points (fictitious)."""
    office = parse_hours("Mo-Fr 07:30-11:30,13:30-17:00; Sa 08:00-11:00")
    always = parse_hours("24/7")
    points = [
        ServicePoint(
            f"TA-{c.code}",
            f"Địa chỉ tin cậy {c.name}",
            "trusted_address",
            c.code,
            None,
            "0",
            frozenset({"counselling", "psychosocial"}),
            office,
        )
        for c in load_gazetteer().communes
    ]
    everything = frozenset(
        {
            "shelter",
            "medical",
            "psychosocial",
            "legal",
            "child_protection",
            "counselling",
            "livelihood",
        }
    )
    points += [
        ServicePoint(
            "CENTRE",
            "Trung tâm CTXH tỉnh",
            "social_work_center",
            None,
            None,
            "0",
            everything,
            always,
            capacity=10,
            occupancy=4,
        ),
        ServicePoint(
            "POLICE-QN", "Công an tỉnh", "police", None, None, "113", frozenset({"police"}), always
        ),
        ServicePoint(
            "LEGAL-QN",
            "Trợ giúp pháp lý",
            "legal_aid",
            None,
            None,
            "0",
            frozenset({"legal"}),
            office,
        ),
    ]
    for d in ("193", "195", "199", "205", "206"):
        points.append(
            ServicePoint(
                f"POLICE-{d}",
                f"Công an {d}",
                "police",
                None,
                d,
                "113",
                frozenset({"police"}),
                always,
            )
        )
    for d, free in (("193", 2), ("195", 0), ("199", 1)):
        points.append(
            ServicePoint(
                f"SHELTER-{d}",
                f"Nhà tạm lánh {d}",
                "shelter",
                None,
                d,
                "0",
                frozenset({"shelter", "counselling"}),
                always,
                capacity=4,
                occupancy=4 - free,
            )
        )
    points.append(
        ServicePoint(
            "HEALTH-193",
            "Y tế Hạ Long",
            "health",
            None,
            "193",
            "0",
            frozenset({"medical"}),
            always,
        )
    )
    return tuple(points)


def percentile(sorted_ns: list[int], q: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000


def report(label: str, samples: list[int]) -> None:
    samples.sort()
    median = statistics.median(samples) / 1000
    print(
        f"{label:38} n={len(samples):6}  median {median:7.1f} µs  "
        f"p95 {percentile(samples, 0.95):7.1f} µs  max {samples[-1] / 1000:8.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    messages = [
        line.split("\t", 1)[1]
        for line in CORPUS.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    print(
        f"python {platform.python_version()} on {platform.platform()}, "
        f"{os.cpu_count()} CPUs, {datetime.now(TZ):%Y-%m-%d %H:%M %Z}"
    )

    start = time.perf_counter_ns()
    resolve_place("warm up")  # builds the indexes once per process
    print(f"index build (first call): {(time.perf_counter_ns() - start) / 1e6:.1f} ms")

    samples: list[int] = []
    for _ in range(args.rounds):
        for text in messages:
            t0 = time.perf_counter_ns()
            resolve_place(text)
            samples.append(time.perf_counter_ns() - t0)
    report(f"place resolution ({len(messages)} messages)", samples)

    points = directory_points()
    directory = Directory(points)
    places = [
        {"commune_code": "06877"},
        {"commune_code": "06868"},  # split old commune
        {"district_code": "199"},
        {"commune_code": "06793"},
        resolve_place("phường Hồng Gai").best,
        None,
    ]
    cases = [
        ((), "medium", "26-40"),
        (("shelter",), "high", "18-25"),
        (("counselling", "psychosocial"), "immediate", "12-17"),
        (("medical",), "low", "41-60"),
    ]
    base = datetime(2026, 3, 2, tzinfo=TZ)
    moments = [base + timedelta(hours=h) for h in (9, 12, 16, 23)] + [
        base + timedelta(days=6, hours=10)
    ]
    print(f"directory: {len(points)} service points")
    for label, pts in (
        ("routing decision (Directory)", directory),
        ("routing decision (tuple of points)", points),
    ):
        samples = []
        for _ in range(args.rounds):
            for place in places:
                for needs, risk, age in cases:
                    for now in moments:
                        t0 = time.perf_counter_ns()
                        choose_service_point(place, needs, risk, age, now, pts)
                        samples.append(time.perf_counter_ns() - t0)
        report(label, samples)


if __name__ == "__main__":
    main()
