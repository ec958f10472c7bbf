"""The signed acknowledgement link in alert SMS: ``/a/<token>``.

Opening the link shows the case reference and one button; the POST acknowledges. A GET
never acknowledges, because phones and messaging apps fetch links to build previews: an
acknowledgement must mean a person saw the alert. The token (signed, expiring, naming
one referral) is the credential, so no login is needed; the page shows no personal data.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template

from hotline.alerts.text import read_ack_token
from hotline.referrals.actions import acknowledge
from models import Referral, User, db

bp = Blueprint("ack", __name__)


def _referral(token: str) -> Referral | None:
    referral_id = read_ack_token(token)
    return db.session.get(Referral, referral_id) if referral_id is not None else None


def _page(template: str, status: int = 200, **context):
    response = render_template(template, **context)
    return response, status, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


@bp.get("/a/<token>")
def confirm(token: str):
    """Show which case the link acknowledges, with the button that does it."""
    referral = _referral(token)
    if referral is None:
        return _page("ack/invalid.html", 404)
    return _page("ack/confirm.html", referral=referral, token=token, done=False)


@bp.post("/a/<token>")
def acknowledge_link(token: str):
    """Acknowledge the referral the token names (the first acknowledgement wins)."""
    referral = _referral(token)
    if referral is None:
        return _page("ack/invalid.html", 404)
    user = g.get("user")
    first = acknowledge(referral, via="link", user=user if isinstance(user, User) else None)
    db.session.commit()
    return _page("ack/confirm.html", referral=referral, token=token, done=True, first=first)
