"""A social worker's referrals: ``GET /api/v1/referrals``, ``POST …/<id>/acknowledge``,
``…/accept``, ``…/decline`` and ``…/outcome``; a shelter's free beds, ``PUT
/api/v1/service-points/<code>/occupancy`` (DESIGN.md sections 7 and 12)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from flask import abort, g, jsonify, request
from flask_babel import gettext as _
from pydantic import BaseModel, Field
from sqlalchemy import select

from hotline.api.auth import token_required
from hotline.api.blueprint import bp
from hotline.api.replies import error, field, json_body, text_error, unprocessable, unstorable_text
from hotline.api.responses import (
    AcknowledgedReferral,
    ClosedReferral,
    Error,
    Referral,
    ReferralList,
)
from hotline.api.schema import documented
from hotline.cases.access import iso, point_ids, referral_json
from hotline.errors import ValidationError
from hotline.referrals.actions import (
    DECLINE_REASONS,
    MAX_DECLINE_NOTE,
    MAX_FREE_BEDS,
    OUTCOMES,
    NotAllowed,
    accept,
    acknowledge,
    decline,
    record_outcome,
    record_perpetrator_outcome,
    referral_for_user,
    set_free_beds,
)
from hotline.validation import validate
from hotline.validation.fields import Choice, Codes, Flag, Obj, Text
from models import Referral as ReferralModel
from models import ServicePoint, db
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
    #: What became of the referral; by default ``service_received`` when services are given.
    outcome: Annotated[str | None, Choice(OUTCOMES)] = None


class DeclineBody(BaseModel):
    """Why the point cannot take the case (and, optionally, in its own words)."""

    reason: Annotated[str, Choice(DECLINE_REASONS)]
    note: Annotated[
        str | None,
        Text(
            MAX_DECLINE_NOTE,
            lambda: _("A note is text of at most %(n)d characters.", n=MAX_DECLINE_NOTE),
        ),
    ] = None


class MovedReferral(Referral):
    #: The referral the case moved on to (null when the chain was exhausted and only an
    #: operator task is left, or for a referral made beside the chain).
    next_referral: Referral | None


class OccupancyBody(BaseModel):
    free_beds: int = Field(ge=0, le=MAX_FREE_BEDS)


class Occupancy(BaseModel):
    code: str
    capacity: int
    free_beds: int
    updated_at: datetime


_NOT_FOUND = (Error, "No such referral among the social worker's own.")
_CONFLICT = (Error, "The referral's status no longer allows this.")


@bp.get("/referrals")
@documented("listReferrals", responses={200: (ReferralList, "Newest first.")})
@token_required("social_worker")
def referrals():
    """The referrals to the social worker's own service points, newest first."""
    ids = point_ids(g.api_user)
    items = []
    if ids:
        items = db.session.scalars(
            db.select(ReferralModel)
            .where(ReferralModel.service_point_id.in_(ids))
            .order_by(ReferralModel.created_at.desc(), ReferralModel.id.desc())
            .limit(500)
        ).all()
    return jsonify(items=[referral_json(r) for r in items])


def _own_referral(referral_id: int) -> ReferralModel:
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


def _not_allowed(exc: NotAllowed):
    db.session.rollback()
    return error(
        409, _("This referral can no longer be changed (it is %(status)s).", status=exc.status)
    )


@bp.post("/referrals/<int:referral_id>/accept")
@documented(
    "acceptReferral",
    responses={200: (Referral, "Accepted."), 404: _NOT_FOUND, 409: _CONFLICT},
)
@token_required("social_worker")
def accept_referral(referral_id: int):
    """Take the case on (a shelter referral needing shelter takes a bed)."""
    referral = _own_referral(referral_id)
    try:
        accept(referral, g.api_user, via="api")
    except NotAllowed as exc:
        return _not_allowed(exc)
    db.session.commit()
    return jsonify(referral_json(referral))


@bp.post("/referrals/<int:referral_id>/decline")
@documented(
    "declineReferral",
    body=DeclineBody,
    responses={
        200: (MovedReferral, "Declined; the case moved on at once."),
        404: _NOT_FOUND,
        409: _CONFLICT,
    },
)
@token_required("social_worker")
def decline_referral(referral_id: int):
    """Decline with a reason: the case goes at once to the next point of its chain, or to
    the provincial centre and an operator task when the chain is exhausted."""
    referral = _own_referral(referral_id)
    data = validate(DeclineBody, json_body())
    try:
        moved = decline(referral, g.api_user, data.reason, data.note, via="api")
    except NotAllowed as exc:
        return _not_allowed(exc)
    db.session.commit()
    return jsonify(
        referral_json(referral) | {"next_referral": referral_json(moved) if moved else None}
    )


@bp.put("/service-points/<code>/occupancy")
@documented(
    "setOccupancy",
    body=OccupancyBody,
    responses={
        200: (Occupancy, "The free beds now."),
        404: (Error, "No such service point among the user's own (admins: any)."),
    },
    description="The point's social workers, or an admin.",
)
@token_required("social_worker", "admin")
def set_occupancy(code: str):
    """Say how many beds are free now (routing skips a full shelter)."""
    user = g.api_user
    point = db.session.scalar(select(ServicePoint).where(ServicePoint.code == code[:50]))
    if point is None or (user.role != "admin" and point.id not in point_ids(user)):
        abort(404)
    set_free_beds(point, field(json_body(), "free_beds"), user)
    db.session.commit()
    return jsonify(
        code=point.code,
        capacity=point.capacity,
        free_beds=point.free_beds,
        updated_at=iso(point.beds_updated_at),
    )


@bp.post("/referrals/<int:referral_id>/outcome")
@documented(
    "recordOutcome",
    body=OutcomeBody,
    responses={
        200: (ClosedReferral, "Recorded; the referral is closed."),
        404: _NOT_FOUND,
        409: _CONFLICT,
    },
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
        record_outcome(
            referral,
            g.api_user,
            data.services_received,
            data.notes,
            outcome=data.outcome,
            via="api",
        )
        record_perpetrator_outcome(referral.case, **data.perpetrator.given(), user=g.api_user)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return unprocessable(exc.errors)
    except NotAllowed as exc:
        return _not_allowed(exc)
    return jsonify(referral_json(referral) | {"services_received": referral.services_received})
