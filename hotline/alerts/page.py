"""The page behind the link in an alert SMS: ``/a/<token>`` (DESIGN.md section 12).

Points without accounts (most trusted addresses and shelters) act on a referral from
their phone with no login: acknowledge, accept, decline with a reason, record the outcome,
and say how many beds are free. The token — signed, valid 14 days, naming one referral —
is the credential. A GET never changes anything (phones and messaging apps fetch links to
build previews: an action must mean a person pressed a button). The page shows what the
alert SMS shows and nothing more: the reference, the place, the urgency and the needs.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _

from hotline.alerts.text import place_text, read_ack_token, urgency_word
from hotline.errors import ValidationError
from hotline.referrals.actions import (
    DECLINE_REASONS,
    OUTCOMES,
    NotAllowed,
    accept,
    acknowledge,
    decline,
    record_outcome,
    set_free_beds,
)
from models import Referral, db
from routing.codes import SERVICES

bp = Blueprint("ack", __name__)

HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "Referrer-Policy": "no-referrer",
}


def _referral(token: str) -> Referral | None:
    referral_id = read_ack_token(token) if len(token) < 200 else None
    return db.session.get(Referral, referral_id) if referral_id is not None else None


def _invalid():
    return render_template("ack/invalid.html"), 404, HEADERS


def _page(referral: Referral, token: str, *, message: str | None = None, errors=None, status=200):
    point = referral.service_point
    return (
        render_template(
            "ack/confirm.html",
            referral=referral,
            case=referral.case,
            point=point,
            token=token,
            place=place_text(referral.case),
            urgency=urgency_word(referral.urgency),
            reasons=DECLINE_REASONS,
            outcomes=OUTCOMES,
            services=SERVICES,
            shelter=point.capacity is not None or "shelter" in point.service_list,
            message=message,
            errors=errors or {},
        ),
        status,
        HEADERS,
    )


@bp.get("/a/<token>")
def confirm(token: str):
    """The referral as the alert describes it, with what the point can do now."""
    referral = _referral(token)
    if referral is None:
        return _invalid()
    return _page(referral, token)


def _act(token: str, action, done: str):
    referral = _referral(token)
    if referral is None:
        return _invalid()
    try:
        action(referral)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return _page(referral, token, errors=exc.errors, status=422)
    except NotAllowed:
        db.session.rollback()
        return _page(
            referral,
            token,
            message=_(
                "This referral can no longer be changed: it is %(status)s.",
                status=_status(referral),
            ),
            status=409,
        )
    # Post/redirect/get: reloading the page never repeats the action.
    return redirect(url_for("ack.confirm", token=token, done=done), code=303)


def _status(referral: Referral) -> str:
    from hotline.labels import label

    return str(label(referral.status, "referral_status")).lower()


@bp.post("/a/<token>")
@bp.post("/a/<token>/acknowledge")
def acknowledge_link(token: str):
    """Acknowledge the referral the token names (the first acknowledgement wins)."""
    return _act(token, lambda r: acknowledge(r, via="link"), "acknowledged")


@bp.post("/a/<token>/accept")
def accept_link(token: str):
    """Take the case on."""
    return _act(token, lambda r: accept(r, via="link"), "accepted")


@bp.post("/a/<token>/decline")
def decline_link(token: str):
    """Decline with a reason; the hotline moves the case to another point at once."""
    form = request.form
    return _act(
        token,
        lambda r: decline(r, None, form.get("reason"), form.get("note") or None, via="link"),
        "declined",
    )


@bp.post("/a/<token>/outcome")
def outcome_link(token: str):
    """What became of the referral (counts in the plan's indicators like any outcome)."""
    form = request.form
    return _act(
        token,
        lambda r: record_outcome(
            r,
            None,
            form.getlist("services_received"),
            (form.get("notes") or "")[:10_000] or None,
            outcome=form.get("outcome"),
            via="link",
        ),
        "outcome",
    )


@bp.post("/a/<token>/beds")
def beds_link(token: str):
    """How many beds are free now at the point (a shelter)."""
    raw = (request.form.get("free_beds") or "").strip()
    value: object = int(raw) if raw.isdigit() and len(raw) < 6 else raw
    return _act(
        token,
        lambda r: set_free_beds(r.service_point, value, f"link:{r.service_point.code}"),
        "beds",
    )
