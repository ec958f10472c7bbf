"""Fixtures for the statistics tests: the demo directory, cases made the way the service
makes them (with personal canary values that must never reach a report), and users."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hotline.accounts.users import create_user, issue_token
from hotline.cases.intake import create_case, parse_case_body
from hotline.dev.demo import load_demo
from models import Case, db
from tests import factories

CANARIES = {
    "note": "canary-ghi-chú-Trần-Thị-Canary-bị-chồng-đánh",
    "phone": "0900 777 222",
    "phone_e164": "+84900777222",
    "phone_digits": "900777222",
    "outcome": "canary-outcome-Lê-Văn-Canary",
    "relationship": "canary-uncle-Phạm",
}


def case_body(**overrides) -> dict:
    """The shared test body with this suite's canaries."""
    return factories.case_body(
        **{
            "safe_contact": {
                "channel": "sms",
                "phone": CANARIES["phone"],
                "hours": "09:00-11:00",
            },
            "notes": CANARIES["note"],
            **overrides,
        }
    )


@pytest.fixture
def directory(ctx):
    load_demo()
    db.session.commit()


@pytest.fixture
def make_case(directory):
    """Create (and commit) a case through the service; ``at`` sets its creation time."""

    def make(at: datetime | None = None, **overrides) -> Case:
        case, _decision = create_case(parse_case_body(case_body(**overrides)), actor="test")
        if at is not None:
            case.created_at = at
            for r in case.referrals:
                r.created_at = at
        db.session.commit()
        return case

    return make


#: A fixed instant inside 2026-03 (local time) used by most tests.
MARCH = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


@pytest.fixture
def manager_token(ctx):
    user = create_user("stats-manager", "a long enough password 1", "manager")
    db.session.flush()
    token = issue_token(user)
    db.session.commit()
    return token


@pytest.fixture
def operator_token(ctx):
    user = create_user("stats-operator", "a long enough password 2", "operator")
    db.session.flush()
    token = issue_token(user)
    db.session.commit()
    return token
