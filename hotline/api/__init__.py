"""The JSON API (DESIGN.md section 7): bearer tokens, scoped by the token's user role
exactly as the screens are. Bodies that cannot be accepted get 422 with field errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, g, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _

from hotline.accounts.users import user_for_token
from hotline.api.openapi import openapi_document
from hotline.cases.access import (
    case_json,
    point_ids,
    point_json,
    record_view,
    referral_json,
    visible_case,
)
from hotline.cases.intake import create_case, parse_case_body
from hotline.errors import ValidationError
from hotline.referrals.actions import (
    acknowledge,
    perpetrator_outcome_from_json,
    record_outcome,
    record_perpetrator_outcome,
    referral_for_user,
)
from models import Referral, db

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_OUTCOME_NOTES = 10_000
MAX_ID = 2**31 - 1  # PostgreSQL integer


def unstorable_text(value: Any, path: str = "body") -> str | None:
    """The first field holding text no database can store (NUL, lone surrogates), or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return path
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = unstorable_text(key, path) or unstorable_text(item, f"{path}.{key}")
            if found:
                return found.removeprefix("body.")
    if isinstance(value, list):
        for item in value:
            found = unstorable_text(item, path)
            if found:
                return found.removeprefix("body.")
    return None


def _text_error(field: str):
    return _unprocessable({field: [_("This text contains characters that cannot be stored.")]})


def _error(status: int, message: str, **extra: Any):
    return jsonify(error=message, status=status, **extra), status


def _unprocessable(errors: dict[str, list[str]] | list[str]):
    return jsonify(errors=errors), 422


def token_required(*roles: str) -> Callable:
    """A valid bearer token (else 401) whose user has one of ``roles`` (else 403)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _sep, token = header.partition(" ")
            user = None
            if scheme.lower() == "bearer" and token.strip():
                user = user_for_token(token.strip())
            if user is None:
                db.session.rollback()
                response = _error(401, _("A valid API token is needed."))
                response[0].headers["WWW-Authenticate"] = 'Bearer realm="hotline"'
                return response
            db.session.commit()  # records when the token was used
            if roles and user.role not in roles:
                return _error(403, _("Your role cannot use this."))
            g.api_user = user
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _lang() -> str:
    return str(get_locale() or "vi")


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI document of this API."""
    return jsonify(openapi_document())


@bp.post("/cases")
@token_required("operator")
def create():
    """Record an intake, route it and (with referral consent) alert the service point."""
    body = request.get_json(silent=True)
    if bad := unstorable_text(body):
        return _text_error(bad)
    try:
        data = parse_case_body(body)
        case, decision = create_case(data, actor=g.api_user)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return _unprocessable(exc.errors)
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


@bp.get("/referrals")
@token_required("social_worker")
def referrals():
    """The referrals to the social worker's own service points, newest first."""
    ids = point_ids(g.api_user)
    items = []
    if ids:
        items = db.session.scalars(
            db.select(Referral)
            .where(Referral.service_point_id.in_(ids))
            .order_by(Referral.created_at.desc(), Referral.id.desc())
            .limit(500)
        ).all()
    return jsonify(items=[referral_json(r) for r in items])


def _own_referral(referral_id: int) -> Referral:
    if referral_id > MAX_ID:
        abort(404)
    referral = referral_for_user(referral_id, g.api_user)
    if referral is None:
        abort(404)
    return referral


@bp.post("/referrals/<int:referral_id>/acknowledge")
@token_required("social_worker")
def acknowledge_referral(referral_id: int):
    """Acknowledge a referral (the first acknowledgement wins; repeating it is harmless)."""
    referral = _own_referral(referral_id)
    first = acknowledge(referral, via="api", user=g.api_user)
    db.session.commit()
    return jsonify(referral_json(referral) | {"first": first})


@bp.post("/referrals/<int:referral_id>/outcome")
@token_required("social_worker")
def outcome(referral_id: int):
    """Record which services the survivor received (optional notes, and optionally whether
    the perpetrator was prosecuted / counselled, stored on the case)."""
    referral = _own_referral(referral_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _unprocessable({"body": [_("Send a JSON object.")]})
    if bad := unstorable_text(body):
        return _text_error(bad)
    errors: dict[str, list[str]] = {}
    services = body.get("services_received")
    if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
        errors["services_received"] = [_("Give a list of service codes.")]
    notes = body.get("notes")
    if notes is not None and (not isinstance(notes, str) or len(notes) > MAX_OUTCOME_NOTES):
        errors["notes"] = [
            _("Notes must be text of at most %(n)d characters.", n=MAX_OUTCOME_NOTES)
        ]
    perpetrator: dict[str, bool] = {}
    try:
        perpetrator = perpetrator_outcome_from_json(body.get("perpetrator"))
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        return _unprocessable(errors)
    try:
        record_outcome(referral, g.api_user, services, notes)
        record_perpetrator_outcome(referral.case, **perpetrator, user=g.api_user)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return _unprocessable(exc.errors)
    return jsonify(referral_json(referral) | {"services_received": referral.services_received})
