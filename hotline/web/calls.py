"""The board's voice controls (DESIGN.md section 13): the operator's availability and the
transfer of the call they are on. Rendered by ``operator/_voice.html``, which the board
includes; its data come from :func:`voice_panel`, so the board passes nothing."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.accounts.duty import AVAILABILITY, set_availability
from hotline.conversations.calls import (
    TRANSFER_MODES,
    NotTheOperatorsCall,
    offer_waiting,
    request_transfer,
)
from hotline.errors import ValidationError
from hotline.web.security import current_user, login_required
from models import Contact, ServicePoint, db

bp = Blueprint("voice", __name__, url_prefix="/operator/voice")


def voice_panel() -> dict:
    """What the partial shows: availability, the live call this operator took (if any)
    and the service points with a duty phone to transfer it to."""
    user = current_user()
    if user is None or user.role != "operator":
        return {"enabled": False}
    call = None
    if user.on_call_sid:
        call = db.session.scalar(
            select(Contact).where(
                Contact.provider_sid == user.on_call_sid,
                Contact.answered_by_id == user.id,
                Contact.ended_at.is_(None),
            )
        )
    points = []
    if call is not None:
        points = db.session.scalars(
            select(ServicePoint)
            .where(ServicePoint.active.is_(True), ServicePoint.alert_phone.is_not(None))
            .order_by(ServicePoint.name)
        ).all()
    return {
        "enabled": True,
        "availability": user.availability,
        "on_duty": user.on_duty,
        "statuses": AVAILABILITY,
        "call": call,
        "points": points,
        "modes": TRANSFER_MODES,
    }


@bp.app_context_processor
def _inject() -> dict:
    return {"voice_panel": voice_panel}


def _back():
    return redirect(url_for("operator.board"))


@bp.post("/availability")
@login_required("operator")
def availability():
    """Set my availability from the board."""
    status = request.form.get("status", "")
    if status not in AVAILABILITY:
        flash(_("Status is available, busy or away."), "error")
        return _back()
    user = current_user()
    set_availability(user, status)
    if status == "available":
        offer_waiting(user)
    db.session.commit()
    flash(_("You are now %(status)s.", status=_status_label(status)), "ok")
    return _back()


def _status_label(status: str) -> str:
    return {"available": _("available"), "busy": _("busy"), "away": _("away")}[status]


@bp.post("/calls/<call_sid>/transfer")
@login_required("operator")
def transfer(call_sid: str):
    """Transfer my call to a service point, warm or cold."""
    try:
        request_transfer(
            current_user(),
            call_sid,
            request.form.get("service_point"),
            request.form.get("mode"),
        )
    except NotTheOperatorsCall:
        db.session.rollback()
        flash(_("No call of yours has this id."), "error")
        return _back()
    except ValidationError as exc:
        db.session.rollback()
        errors = exc.errors.values() if isinstance(exc.errors, dict) else [exc.errors]
        for messages in errors:
            for message in messages:
                flash(message, "error")
        return _back()
    db.session.commit()
    flash(_("Calling the service point's duty phone into the call."), "ok")
    return _back()
