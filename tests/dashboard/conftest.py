"""Fixtures of the dashboard suites: a manager, a spread of cases over places and months
(some cells published, some suppressed) and, for the browser tests, the live server and
Chromium of ``tests/web/conftest.py``."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tests.web.conftest import browser, pages, pytest_runtest_makereport  # noqa: F401


def login(client, user) -> None:
    """Sign ``user`` in on ``client`` as the login form does (a standing session row)."""
    from hotline.accounts import sessions
    from models import db

    sid = sessions.start_session(user, "pytest")
    db.session.commit()
    with client.session_transaction() as session:
        now = int(time.time())
        session.update(uid=user.id, sid=sid, login_at=now, seen=now, csrf="stats-test-csrf")


@pytest.fixture
def manager(directory):
    """The demo manager (a sample account: no second factor outside production)."""
    from models import User, db
    from tests.webclient import ROLE_USERS

    return db.session.scalar(db.select(User).where(User.username == ROLE_USERS["manager"]))


#: (district, cases per month in 2026-S1): enough in a few places to publish, one place
#: with 3 cases (suppressed), the rest 0.
SPREAD = {"193": 3, "195": 2, "205": 1, "194": 1}


@pytest.fixture
def spread(report_case):
    """Cases in 2025-S2 and 2026-S1 across several former districts: Hạ Long the most,
    Uông Bí with three (a suppressed cell), Cô Tô none."""
    from routing.places import load_gazetteer

    g = load_gazetteer()
    made = 0
    for month_no in range(1, 7):
        at = datetime(2026, month_no, 12, 3, 0, tzinfo=UTC)
        for district, n in SPREAD.items():
            commune = g.communes_of_district(district)[0]
            for i in range(n):
                report_case(
                    at=at,
                    area={"commune_code": commune},
                    survivor={"sex": "female" if i % 3 else "male", "age_band": "26-40"},
                )
                made += 1
    uong_bi = g.communes_of_district("196")[0]
    for _ in range(3):
        report_case(at=datetime(2026, 2, 3, 3, 0, tzinfo=UTC), area={"commune_code": uong_bi})
    for month_no in (10, 11, 12):
        for _ in range(5):
            report_case(
                at=datetime(2025, month_no, 5, 3, 0, tzinfo=UTC),
                area={"commune_code": g.communes_of_district("193")[0]},
            )
    return made + 3


@pytest.fixture
def calls(directory):
    """Calls to Hạ Long in 2025-S2 (30 a month, 25 answered, 20 within 20 seconds) and
    2026-S1 (40 a month, 34 answered, 28 within 20 seconds): the KPI tiles compare them."""
    from datetime import timedelta
    from itertools import count

    from models import Contact, db

    sid = count(1)

    def add(started, answered_after, district):
        n = next(sid)
        started = started + timedelta(minutes=n)
        db.session.add(
            Contact(
                channel="voice",
                provider="twilio",
                provider_sid=f"CADASH{n:026d}",
                status="completed",
                district_code=district,
                started_at=started,
                answered_at=None
                if answered_after is None
                else started + timedelta(seconds=answered_after),
                ended_at=started + timedelta(minutes=3),
                abandoned_step=None if answered_after is not None else "queued",
            )
        )

    plan = ((2025, range(7, 13), 30, 25, 20), (2026, range(1, 7), 40, 34, 28))
    for y, months, per, answered, fast in plan:
        for mo in months:
            start = datetime(y, mo, 4, 2, 0, tzinfo=UTC)
            for i in range(per):
                wait = 8 if i < fast else 45 if i < answered else None
                add(start, wait, "193")
    db.session.commit()
