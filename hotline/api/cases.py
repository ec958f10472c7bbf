"""``POST /api/v1/cases`` and ``GET /api/v1/cases/<reference>`` (DESIGN.md section 7)."""

from __future__ import annotations

from flask import abort, g, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _

from hotline.api.auth import token_required
from hotline.api.blueprint import bp
from hotline.api.replies import text_error, unprocessable, unstorable_text
from hotline.api.responses import Case, CreatedCase, Error
from hotline.api.schema import documented
from hotline.cases.access import case_json, point_json, record_view, visible_case
from hotline.cases.body import CaseBody
from hotline.cases.intake import create_case, parse_case_body
from hotline.errors import ValidationError
from models import db


def _lang() -> str:
    return str(get_locale() or "vi")


@bp.post("/cases")
@documented(
    "createCase",
    body=CaseBody,
    responses={201: (CreatedCase, "Created and routed.")},
    description="Operators only.",
)
@token_required("operator")
def create():
    """Record an intake, route it and (with referral consent) alert the service point."""
    body = request.get_json(silent=True)
    if bad := unstorable_text(body):
        return text_error(bad)
    try:
        data = parse_case_body(body)
        case, decision = create_case(data, actor=g.api_user)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return unprocessable(exc.errors)
    primary = case.referrals[0].service_point if case.referrals else decision.primary
    return (
        jsonify(
            reference=case.reference,
            status=case.status,
            routing={
                "service_point": point_json(primary),
                "reason": decision.reason(_),
                "alternates": [point_json(p) for p in decision.alternates],
                "police": point_json(decision.police),
                "instructions": list(decision.instruction_codes),
            },
        ),
        201,
    )


@bp.get("/cases/<reference>")
@documented(
    "getCase",
    responses={
        200: (Case, "The case."),
        404: (Error, "No such case in the caller's scope."),
    },
)
@token_required()
def show_case(reference: str):
    """One case as the token's role may see it; 404 when out of scope."""
    if unstorable_text(reference):
        abort(404)
    case = visible_case(reference, g.api_user)
    if case is None:
        abort(404)
    record_view(g.api_user, case, "api")
    payload = case_json(case, g.api_user, _lang())
    db.session.commit()
    return jsonify(payload)
