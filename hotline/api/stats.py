"""``GET /api/v1/stats?period=PERIOD[&district_code=…]``: managers, anonymised only
(DESIGN.md section 7). The body is the ``json`` reporting payload (section 9)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from hotline.api import token_required
from hotline.reporting.payload import json_payload
from hotline.stats.messages import area_error, check_area, period_error
from hotline.stats.periods import PeriodError, parse_period
from hotline.stats.report import build_report
from models.types import utcnow

bp = Blueprint("stats_api", __name__, url_prefix="/api/v1")


@bp.get("/stats")
@token_required("manager")
def stats():
    """The anonymised counts, indicators and hotline metrics of a period and place."""
    errors: dict[str, list[str]] = {}
    period = None
    try:
        period = parse_period(request.args.get("period"))
    except PeriodError as exc:
        errors["period"] = [period_error(exc)]
    area = check_area(request.args.get("district_code"))
    if area is None:
        errors["district_code"] = [area_error()]
    if errors:
        return jsonify(errors=errors), 422
    return jsonify(json_payload(build_report(period, area), utcnow()))
