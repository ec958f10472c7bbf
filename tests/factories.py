"""Builders for test data: directory rows, CSV files, case bodies and cases."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from hotline.cases.intake import create_case, parse_case_body
from hotline.directory.points import COLUMNS
from models import Case, ServicePoint, db

#: Fictitious numbers for tests, in the same artificial block as the demo data.
MOBILE = "0900 100 {:03d}"


def directory_row(n: int = 1, **overrides: str) -> dict[str, str]:
    row = {
        "code": f"QN-DCTC-{n:03d}",
        "name": f"Địa chỉ tin cậy số {n}",
        "kind": "trusted_address",
        "commune_code": "06862",
        "district_code": "",
        "address": f"Thôn {n}",
        "phone": MOBILE.format(n),
        "alert_phone": MOBILE.format(500 + n),
        "services": "counselling;psychosocial",
        "hours": "Mo-Fr 07:30-11:30,13:30-17:00",
        "capacity": "",
        "notes": "",
    }
    row.update(overrides)
    return row


def directory_csv(rows: list[dict[str, str]], header: tuple[str, ...] = COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


#: Personal values in test cases: they must never appear in logs, SMS or reports.
CANARY_NOTE = "canary-note-chồng-đánh-Nguyễn-Thị-Canary"
CANARY_PHONE = "0900 777 111"
CANARY_E164 = "+84900777111"

#: The alert and follow-up suites' case: referral and reporting consent, no follow-up.
ALERT_CASE = {
    "needs": ["counselling", "psychosocial"],
    "consent": {"referral": True, "follow_up": False, "reporting": True},
    "safe_contact": {"channel": "none"},
}

#: Personal values of the statistics suites' cases: they must never reach a report.
REPORT_CANARIES = {
    "note": "canary-ghi-chú-Trần-Thị-Canary-bị-chồng-đánh",
    "phone": "0900 777 222",
    "phone_e164": "+84900777222",
    "phone_digits": "900777222",
    "outcome": "canary-outcome-Lê-Văn-Canary",
    "relationship": "canary-uncle-Phạm",
}

#: The statistics suites' case: the shared body with :data:`REPORT_CANARIES`.
REPORT_CASE = {
    "safe_contact": {"channel": "sms", "phone": REPORT_CANARIES["phone"], "hours": "09:00-11:00"},
    "notes": REPORT_CANARIES["note"],
}

#: A fixed instant inside 2026-03 (local time) used by most statistics tests.
MARCH = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


def case_body(**overrides) -> dict:
    """A valid ``POST /api/v1/cases`` body (DESIGN.md section 7) with canary personal values."""
    body = {
        "channel": "voice",
        "area": {"commune_code": "06862"},
        "survivor": {"sex": "female", "age_band": "26-40"},
        "violence_types": ["physical_assault"],
        "contexts": ["domestic_violence"],
        "perpetrator": {"relationship": "husband", "sex": "male"},
        "risk": "high",
        "needs": ["counselling"],
        "consent": {"referral": True, "follow_up": True, "reporting": True},
        "safe_contact": {"channel": "sms", "phone": CANARY_PHONE, "hours": "09:00-11:00"},
        "notes": CANARY_NOTE,
    }
    body.update(overrides)
    return body


def new_case(
    *,
    base: dict | None = None,
    actor: object = "test",
    at: datetime | None = None,
    **overrides,
) -> Case:
    """Create and commit a case exactly as the API does (validate, route, one commit).

    The body is :func:`case_body` with a suite's ``base`` values, then ``overrides``; ``actor``
    is ``"test"`` or a :class:`models.User`; ``at`` backdates the case and its referrals.
    """
    case, _decision = create_case(
        parse_case_body(case_body(**{**(base or {}), **overrides})), actor=actor
    )
    if at is not None:
        case.created_at = at
        for referral in case.referrals:
            referral.created_at = at
    db.session.commit()
    return case


def point(code: str) -> ServicePoint:
    """The stored service point with this code."""
    return db.session.scalar(db.select(ServicePoint).where(ServicePoint.code == code))
