"""``GET /api/v1/stats?period=PERIOD[&district_code=…]``: managers, anonymised only
(DESIGN.md section 7). The body is the ``json`` reporting payload (section 9).

``PERIOD`` is a month, half-year or year, or a range of whole months
(``2026-01..2026-04``): only ranges that can be protected together with the published
periods are answered; any other range is refused (422) with the reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from flask import Blueprint, jsonify, request
from pydantic import BaseModel

from hotline.api.auth import token_required
from hotline.api.responses import Report
from hotline.api.schema import documented
from hotline.errors import ValidationError
from hotline.reporting.payload import json_payload
from hotline.stats.messages import area_error, check_area, period_error
from hotline.stats.periods import Period, PeriodError, parse_period
from hotline.stats.report import PROVINCE, build_report
from hotline.validation import validate
from hotline.validation.fields import Kind
from models.types import utcnow

bp = Blueprint("stats_api", __name__, url_prefix="/api/v1")


@dataclass(frozen=True)
class PeriodParameter(Kind):
    """``YYYY-MM``, ``YYYY-S1``, ``YYYY-S2``, ``YYYY`` or whole months ``YYYY-MM..YYYY-MM``
    (``YYYY-MM-DD..YYYY-MM-DD`` from the first to the last day of months)."""

    def check(self, value: Any) -> Period:
        try:
            return parse_period(value, allow_custom=True)
        except PeriodError as exc:
            raise self.fail(period_error(exc)) from None

    def missing(self) -> list[str]:
        try:
            self.check(None)
        except ValueError as exc:
            return exc.context["messages"]  # type: ignore[attr-defined]
        return super().missing()

    def schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "pattern": (
                r"^(\d{4}(-(0[1-9]|1[0-2]|S1|S2))?"
                r"|\d{4}-(0[1-9]|1[0-2])\.\.\d{4}-(0[1-9]|1[0-2])"
                r"|\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2})$"
            ),
        }


@dataclass(frozen=True)
class DistrictParameter(Kind):
    """A former district code of Quảng Ninh, or ``QN`` (the default) for the province."""

    def check(self, value: Any) -> str:
        area = check_area(value)
        if area is None:
            raise self.fail(area_error())
        return area

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^(\d{3}|QN)$"}


class StatsQuery(BaseModel):
    period: Annotated[Period, PeriodParameter()]
    district_code: Annotated[str, DistrictParameter()] = PROVINCE


@bp.get("/stats")
@documented(
    "getStats",
    query=StatsQuery,
    responses={200: (Report, "The anonymised report.")},
    description=(
        "The body is the json reporting payload of DESIGN.md section 9: counts of cases "
        "with reporting consent; every count from 1 to 4 is null with suppressed true, "
        "with complementary suppression, jointly over the months, half-years and year "
        "of each year. A period may also be a range of whole months (2026-01..2026-04); "
        "any other range is refused with the reason."
    ),
)
@token_required("manager")
def stats():
    """Anonymised counts, indicators and hotline metrics of a period and place (managers)."""
    try:
        query = validate(StatsQuery, request.args.to_dict())
    except ValidationError as exc:
        return jsonify(errors=exc.errors), 422
    return jsonify(json_payload(build_report(query.period, query.district_code), utcnow()))
