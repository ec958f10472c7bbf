"""Fixtures for the routing tests: a fictitious directory and fixed moments in Quảng Ninh."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from routing.hours import parse_hours
from routing.places import load_gazetteer
from routing.select import ServicePoint

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE = "Mo-Fr 07:30-11:30,13:30-17:00; Sa 08:00-11:00"
ALL_SERVICES = frozenset(
    {
        "shelter",
        "medical",
        "psychosocial",
        "legal",
        "livelihood",
        "child_protection",
        "counselling",
    }
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2026 in the hotline's timezone (2 March 2026 is a Monday)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=TZ)


MONDAY_9 = at(2, 9)
MONDAY_LUNCH = at(2, 12)
SUNDAY_10 = at(8, 10)


def sample_points() -> list[ServicePoint]:
    """One trusted address per 2025 commune (office hours) and a few others (fictitious)."""
    office, always = parse_hours(OFFICE), parse_hours("24/7")
    points = [
        ServicePoint(
            code=f"TA-{c.code}",
            name=f"Địa chỉ tin cậy {c.type.lower()} {c.name}",
            kind="trusted_address",
            commune_code=c.code,
            district_code=None,
            phone="0203 000 0000",
            services=frozenset({"counselling", "psychosocial"}),
            hours=office,
        )
        for c in load_gazetteer().communes
    ]
    points += [
        ServicePoint(
            "CENTRE",
            "Trung tâm Công tác xã hội tỉnh",
            "social_work_center",
            None,
            None,
            "18001769",
            ALL_SERVICES,
            always,
            capacity=10,
            occupancy=2,
        ),
        ServicePoint(
            "POLICE-QN", "Công an tỉnh", "police", None, None, "113", frozenset({"police"}), always
        ),
        ServicePoint(
            "POLICE-199",
            "Công an khu vực Tiên Yên",
            "police",
            None,
            "199",
            "113",
            frozenset({"police"}),
            always,
        ),
        ServicePoint(
            "POLICE-06793",
            "Công an phường Cẩm Phả",
            "police",
            "06793",
            None,
            "113",
            frozenset({"police"}),
            always,
        ),
        ServicePoint(
            "SHELTER-199",
            "Nhà tạm lánh Tiên Yên",
            "shelter",
            None,
            "199",
            "0203 111 1111",
            frozenset({"shelter", "counselling"}),
            always,
            capacity=4,
            occupancy=1,
        ),
        ServicePoint(
            "SHELTER-06793",
            "Nhà tạm lánh Cẩm Phả",
            "shelter",
            "06793",
            None,
            "0203 222 2222",
            frozenset({"shelter", "counselling"}),
            always,
            capacity=3,
            occupancy=3,
        ),
        ServicePoint(
            "HEALTH-195",
            "Trung tâm Y tế Cẩm Phả",
            "health",
            None,
            "195",
            "0203 333 3333",
            frozenset({"medical"}),
            always,
        ),
        ServicePoint(
            "LEGAL-QN",
            "Trung tâm Trợ giúp pháp lý tỉnh",
            "legal_aid",
            None,
            None,
            "0203 444 4444",
            frozenset({"legal", "counselling"}),
            office,
        ),
        ServicePoint(
            "SW-193",
            "Phòng công tác xã hội Hạ Long",
            "social_work_center",
            None,
            "193",
            "0203 555 5555",
            frozenset({"counselling", "psychosocial"}),
            office,
        ),
        ServicePoint(
            "TA-OLD-07042",
            "Địa chỉ tin cậy thôn Đồng Lâm",
            "trusted_address",
            "07042",
            None,
            "0203 666 6666",
            frozenset({"counselling"}),
            always,
        ),
    ]
    return points


@pytest.fixture(scope="session")
def points() -> tuple[ServicePoint, ...]:
    return tuple(sample_points())


@pytest.fixture
def when():
    """``when(day, hour, minute=0)``: a moment in March 2026 in the hotline's timezone."""
    return at
