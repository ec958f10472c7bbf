"""A social worker's referrals: ``GET /api/v1/referrals``, ``POST …/<id>/acknowledge`` and
``POST …/<id>/outcome`` (DESIGN.md sections 7 and 12)."""

from __future__ import annotations

from typing import Annotated

from flask import abort, g, jsonify, request
from flask_babel import gettext as _
from pydantic import BaseModel, Field

from hotline.api.auth import token_required
from hotline.api.blueprint import bp
from hotline.api.replies import text_error, unprocessable, unstorable_text
from hotline.api.responses import AcknowledgedReferral, ClosedReferral, Error, ReferralList
from hotline.api.schema import documented
from hotline.cases.access import point_ids, referral_json
from hotline.errors import ValidationError
from hotline.referrals.actions import (
    acknowledge,
    record_outcome,
    record_perpetrator_outcome,
    referral_for_user,
)
from hotline.validation import validate
from hotline.validation.fields import Codes, Flag, Obj, Text
from models import Referral, db
from routing.codes import SERVICES

MAX_OUTCOME_NOTES = 10_000
MAX_ID = 2**31 - 1  # PostgreSQL integer


class PerpetratorOutcome(BaseModel):
    """Stored on the referral's case (indicator PERPETRATOR_COUNSELLING); a key left out
    keeps its recorded value."""

    prosecuted: Annotated[bool | None, Flag()] = None
    counselled: Annotated[bool | None, Flag()] = None

    def given(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class OutcomeBody(BaseModel):
    """Which services the survivor received (codes checked when recorded)."""

    services_received: Annotated[
        list[str], Codes(SERVICES, lambda: _("Give a list of service codes."), known=False)
    ]
    notes: Annotated[
        str | None,
        Text(
            MAX_OUTCOME_NOTES,
            lambda: _("Notes must be text of at most %(n)d characters.", n=MAX_OUTCOME_NOTES),
        ),
    ] = None
    perpetrator: Annotated[
        PerpetratorOutcome,
        Obj(lambda: _("Give the perpetrator outcome as an object."), inline=True),
    ] = Field(default_factory=PerpetratorOutcome)


_NOT_FOUND = (Error, "No such referral among the social worker's own.")


@bp.get("/referrals")
@documented("listReferrals", responses={200: (ReferralList, "Newest first.")})
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
@documented(
    "acknowledgeReferral",
    responses={
        200: (AcknowledgedReferral, "Acknowledged (first: whether this call was)."),
        404: _NOT_FOUND,
    },
)
@token_required("social_worker")
def acknowledge_referral(referral_id: int):
    """Acknowledge a referral (the first acknowledgement wins; repeating it is harmless)."""
    referral = _own_referral(referral_id)
    first = acknowledge(referral, via="api", user=g.api_user)
    db.session.commit()
    return jsonify(referral_json(referral) | {"first": first})


@bp.post("/referrals/<int:referral_id>/outcome")
@documented(
    "recordOutcome",
    body=OutcomeBody,
    responses={200: (ClosedReferral, "Recorded; the referral is closed."), 404: _NOT_FOUND},
)
@token_required("social_worker")
def outcome(referral_id: int):
    """Record which services the survivor received (optional notes, and optionally whether
    the perpetrator was prosecuted / counselled, stored on the case)."""
    referral = _own_referral(referral_id)
    body = request.get_json(silent=True)
    if isinstance(body, dict) and (bad := unstorable_text(body)):
        return text_error(bad)
    try:
        data = validate(OutcomeBody, body)
        record_outcome(referral, g.api_user, data.services_received, data.notes)
        record_perpetrator_outcome(referral.case, **data.perpetrator.given(), user=g.api_user)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return unprocessable(exc.errors)
    return jsonify(referral_json(referral) | {"services_received": referral.services_received})
