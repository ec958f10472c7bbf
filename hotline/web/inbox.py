"""The social worker's inbox: referrals to their own service points, newest and most urgent
first, with acknowledge, accept, decline (with a reason; the case moves on at once) and
the outcome; a shelter's free beds. Made for a phone."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import case as sql_case
from sqlalchemy import select

from hotline.cases.access import place_label, point_ids
from hotline.errors import ValidationError
from hotline.labels import label
from hotline.referrals.actions import (
    DECLINE_REASONS,
    OUTCOMES,
    NotAllowed,
    accept,
    acknowledge,
    decline,
    perpetrator_outcome_from_form,
    record_outcome,
    record_perpetrator_outcome,
    referral_for_user,
    set_free_beds,
)
from hotline.web.security import current_user, login_required
from models import Referral, ServicePoint, db
from routing.codes import SERVICES

bp = Blueprint("inbox", __name__, url_prefix="/inbox")

_OPEN_FIRST = sql_case(
    (Referral.status == "pending", 0), (Referral.status == "acknowledged", 1), else_=2
)
_URGENT_FIRST = sql_case(
    (Referral.urgency == "immediate", 0), (Referral.urgency == "high", 1), else_=2
)


@bp.app_context_processor
def referral_choices() -> dict:
    """The choices of the referral actions (inbox/_actions.html, wherever it is included)."""
    return {"decline_reasons": DECLINE_REASONS, "referral_outcomes": OUTCOMES}


@bp.get("/")
@login_required("social_worker")
def index():
    """Referrals to my service points: open ones first, the most urgent on top."""
    ids = point_ids(current_user())
    referrals = []
    if ids:
        referrals = db.session.scalars(
            select(Referral)
            .where(Referral.service_point_id.in_(ids))
            .order_by(_OPEN_FIRST, _URGENT_FIRST, Referral.created_at.desc())
            .limit(200)
        ).all()
    shelters = [
        p
        for p in current_user().service_points
        if p.capacity is not None or "shelter" in p.service_list
    ]
    return render_template(
        "inbox/index.html",
        referrals=referrals,
        place_label=place_label,
        services=SERVICES,
        shelters=shelters,
    )


def _own(referral_id: int) -> Referral:
    referral = referral_for_user(referral_id, current_user()) if referral_id < 2**31 else None
    if referral is None:
        abort(404)
    return referral


def _back(referral: Referral):
    if request.form.get("back") == "case":
        return redirect(url_for("cases.show", reference=referral.case.reference))
    return redirect(url_for("inbox.index"))


@bp.post("/referrals/<int:referral_id>/acknowledge")
@login_required("social_worker")
def acknowledge_referral(referral_id: int):
    """Say the referral was seen (stops escalation)."""
    referral = _own(referral_id)
    first = acknowledge(referral, via="inbox", user=current_user())
    db.session.commit()
    flash(
        _("Acknowledged %(reference)s.", reference=referral.case.reference)
        if first
        else _("%(reference)s was already acknowledged.", reference=referral.case.reference),
        "ok",
    )
    return _back(referral)


@bp.post("/referrals/<int:referral_id>/accept")
@login_required("social_worker")
def accept_referral(referral_id: int):
    """Take the case on."""
    referral = _own(referral_id)
    try:
        accept(referral, current_user())
    except NotAllowed:
        return _too_late(referral)
    db.session.commit()
    flash(_("You accepted %(reference)s.", reference=referral.case.reference), "ok")
    return _back(referral)


@bp.post("/referrals/<int:referral_id>/decline")
@login_required("social_worker")
def decline_referral(referral_id: int):
    """Decline with a reason; the case goes at once to the next point."""
    referral = _own(referral_id)
    try:
        decline(
            referral,
            current_user(),
            request.form.get("reason"),
            (request.form.get("note") or "").strip() or None,
        )
        db.session.commit()
    except ValidationError as exc:
        return _refused(referral, exc)
    except NotAllowed:
        return _too_late(referral)
    flash(
        _(
            "You declined %(reference)s. The hotline has sent it to another point.",
            reference=referral.case.reference,
        ),
        "ok",
    )
    return _back(referral)


@bp.post("/points/<int:point_id>/beds")
@login_required("social_worker")
def beds(point_id: int):
    """How many beds are free now at one of my points."""
    user = current_user()
    if point_id not in point_ids(user):
        abort(404)
    point = db.session.get(ServicePoint, point_id)
    raw = (request.form.get("free_beds") or "").strip()
    try:
        set_free_beds(point, int(raw) if raw.isdigit() and len(raw) < 6 else raw, user)
        db.session.commit()
        flash(_("Free beds saved."), "ok")
    except ValidationError as exc:
        db.session.rollback()
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
    return redirect(url_for("inbox.index"))


def _too_late(referral: Referral):
    db.session.rollback()
    flash(
        _(
            "%(reference)s can no longer be changed: it is %(status)s.",
            reference=referral.case.reference,
            status=str(label(referral.status, "referral_status")).lower(),
        ),
        "error",
    )
    return _back(referral)


def _refused(referral, exc: ValidationError):
    """Nothing stored: show each problem and go back to the referral."""
    db.session.rollback()
    for messages in exc.errors.values():
        for message in messages:
            flash(message, "error")
    return _back(referral)


@bp.post("/referrals/<int:referral_id>/outcome")
@login_required("social_worker")
def outcome(referral_id: int):
    """Which services the survivor received; whether the perpetrator was prosecuted or
    received counselling (stored on the case)."""
    referral = _own(referral_id)
    services = request.form.getlist("services_received")
    try:
        perpetrator = perpetrator_outcome_from_form(request.form)
        record_outcome(
            referral,
            current_user(),
            services,
            request.form.get("notes", "")[:10_000] or None,
            outcome=request.form.get("outcome") or None,
        )
        record_perpetrator_outcome(referral.case, **perpetrator, user=current_user())
        db.session.commit()
    except ValidationError as exc:
        return _refused(referral, exc)
    except NotAllowed:
        return _too_late(referral)
    flash(_("Outcome recorded for %(reference)s.", reference=referral.case.reference), "ok")
    return _back(referral)
