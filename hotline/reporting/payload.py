"""The pushed bodies (DESIGN.md section 9): the ``json`` contract and a DHIS2
``dataValueSet``, their content hash and idempotency key. Pure: built from a
:class:`~hotline.stats.report.Report`, which is already anonymised and suppressed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from hotline.stats.definitions import CASE_COUNTS, CONTACT_COUNTS, INDICATORS
from hotline.stats.report import PROVINCE, Report
from hotline.stats.tables import COMMUNE, DISTRICT, Key

SOURCE = "hotline-18001769"
FORMATS = ("json", "dhis2")
#: GSO code of Quảng Ninh: the DHIS2 org unit of province-wide values by default.
PROVINCE_ORG_UNIT = "22"


def json_payload(report: Report, generated_at: datetime) -> dict[str, Any]:
    """The ``json`` body: cells (cases), indicators (the plan's and the hotline metrics)."""
    return {
        "source": SOURCE,
        "period": report.period.code,
        "generated_at": generated_at.isoformat().replace("+00:00", "Z"),
        "cells": report.cells("cases", contract_only=True),
        "indicators": [m.as_dict() for m in [*report.indicators(), *report.metrics()]],
    }


def carried_keys(report: Report) -> list[Key]:
    """The cells whose number (or suppression) the ``json`` and ``dhis2`` bodies carry:
    the contract cells and every cell an indicator or hotline metric is read from. A push
    records them (:func:`hotline.stats.published.record_pushed`) so the joint suppression
    holds them fixed."""
    keys = [
        ("cases", tuple(sorted(c["dimensions"].items())))
        for c in report.cells("cases", contract_only=True)
    ]
    for ind in INDICATORS:
        keys += [report.key_of(f"ind:{ind.code}"), report.key_of(f"ind:{ind.code}", part="met")]
    keys.append(report.key_of("calls"))
    keys += [report.key_of("calls", result=r) for r in ("answered", "answered_fast", "abandoned")]
    for m, dims in report.published:
        d = dict(dims)
        if m == "abandoned" and set(d) == {"step"}:
            keys.append(report.key_of("abandoned", step=d["step"]))
    keys += [report.key_of(t) for t in (*CONTACT_COUNTS, *CASE_COUNTS)]
    return [k for k in dict.fromkeys(keys) if k in report.published]


def content_hash(payload: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the payload without ``generated_at``: the same
    numbers always give the same hash (and so the same idempotency key)."""
    data = {k: v for k, v in payload.items() if k != "generated_at"}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def idempotency_key(period_code: str, area: str, digest: str) -> str:
    return f"{period_code}-{area}-{digest[:32]}"


def body_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def signature(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256 of the exact body bytes>`` for ``X-Hotline-Signature``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


# --- DHIS2 ------------------------------------------------------------------------------

#: Data element code per table of cells: a multi-valued dimension gets its own element so
#: DHIS2 never adds its categories up to a case total.
DATA_ELEMENTS = {
    None: "HL_CASES",
    "sex": "HL_CASES_SEX",
    "age_band": "HL_CASES_AGE",
    "channel": "HL_CASES_CHANNEL",
    "risk": "HL_CASES_RISK",
    "outcome": "HL_CASES_OUTCOME",
    "violence_type": "HL_CASES_VIOLENCE_TYPE",
}


def default_mapping() -> dict[str, dict[str, str]]:
    """Codes used when no mapping is configured: derived from ours (docs/statistics.md).

    ``data_elements``: our table → DHIS2 data element code; ``category_option_combos``:
    ``dimension:code`` → COC code (default ``DIMENSION_CODE`` upper-cased);
    ``org_units``: our place code → org unit code (default: the GSO code itself, and
    :data:`PROVINCE_ORG_UNIT` for the province).
    """
    return {"data_elements": {}, "category_option_combos": {}, "org_units": {}}


def _coc(dim: str | None, code: str | None, mapping: dict) -> str:
    if dim is None:
        return mapping["category_option_combos"].get("default", "default")
    key = f"{dim}:{code}"
    derived = f"{dim}_{code}".upper().replace("-", "_").replace("+", "PLUS")
    return mapping["category_option_combos"].get(key, derived)


def _org_unit(dims: dict[str, str], mapping: dict) -> str | None:
    place = dims.get(COMMUNE) or dims.get(DISTRICT)
    if place is None:
        return mapping["org_units"].get(PROVINCE, PROVINCE_ORG_UNIT)
    return mapping["org_units"].get(place, place)


def dhis2_payload(report: Report, mapping: dict | None = None) -> dict[str, Any]:
    """A DHIS2 ``dataValueSet`` (codes as identifiers: push with ``idScheme=CODE``).

    Cells crossing a former district with a 2025 commune are left out (a value has one
    org unit; DHIS2 aggregates its own hierarchy), as are ``unknown`` places. A
    suppressed value is sent as ``"deleted": true`` so a re-push removes a value an
    earlier push may have stored.
    """
    mapping = {**default_mapping(), **(mapping or {})}
    values = []
    for cell in report.cells("cases", contract_only=True):
        dims = dict(cell["dimensions"])
        if DISTRICT in dims and COMMUNE in dims:
            continue
        if "unknown" in (dims.get(DISTRICT), dims.get(COMMUNE)):
            continue
        others = [k for k in dims if k not in (DISTRICT, COMMUNE)]
        dim = others[0] if others else None
        element = mapping["data_elements"].get(dim or "cases", DATA_ELEMENTS[dim])
        values.append(
            _value(
                element,
                _coc(dim, dims.get(dim) if dim else None, mapping),
                _org_unit(dims, mapping),
                cell["value"],
            )
        )
    area_unit = _org_unit({DISTRICT: report.area} if report.area != PROVINCE else {}, mapping)
    for metric in [*report.indicators(), *report.metrics()]:
        for suffix, number in (
            ("NUM", metric.numerator),
            ("DEN", metric.denominator),
            ("VALUE", metric.value),
        ):
            if suffix != "VALUE" and metric.kind != "rate" and number is None:
                continue
            code = f"HL_{metric.code}_{suffix}"
            element = mapping["data_elements"].get(code, code)
            values.append(_value(element, _coc(None, None, mapping), area_unit, number))
    values.sort(key=lambda v: (v["dataElement"], v["orgUnit"], v["categoryOptionCombo"]))
    return {"period": report.period.dhis2, "dataValues": values}


def _value(element: str, coc: str, org_unit: str | None, number) -> dict[str, Any]:
    v: dict[str, Any] = {
        "dataElement": element,
        "orgUnit": org_unit,
        "categoryOptionCombo": coc,
    }
    if number is None:
        v["deleted"] = True
    else:
        v["value"] = str(number)
    return v
