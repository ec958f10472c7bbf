"""Builders for test data: directory rows, CSV files and users."""

from __future__ import annotations

import csv
import io

from hotline.directory import COLUMNS

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
