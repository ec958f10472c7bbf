"""Builders for test data: directory rows, CSV files and users."""

from __future__ import annotations

import csv
import io

from hotline.directory.points import COLUMNS

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
