"""Signing in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from hotline.accounts.users import LOCK_AFTER_FAILURES, LOCK_MINUTES, authenticate
from hotline.audit import record_event
from hotline.web.ratelimit import too_many_attempts
from hotline.web.security import current_user, home_url, log_in, log_out
from models import db

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no host): never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form; after sign-in each role lands on its own home page."""
    user = current_user()
    if user is not None and request.method == "GET":
        return redirect(home_url(user))
    error = None
    status = 200
    expired = session.pop("expired", False)
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "")[:80]
        password = request.form.get("password", "")[:1024]
        if too_many_attempts():
            error = _("Too many sign-in attempts from this device. Wait a few minutes.")
            status = 429
        elif not username.strip() or not password:
            error = _("Enter your username and password.")
            status = 422
        else:
            user = authenticate(username, password)
            db.session.commit()
            if user is not None:
                log_in(user)
                return redirect(_safe_next(request.args.get("next")) or home_url(user))
            error = _(
                "The username or password is wrong. After %(n)d wrong attempts the account "
                "is locked for %(minutes)d minutes.",
                n=LOCK_AFTER_FAILURES,
                minutes=LOCK_MINUTES,
            )
            status = 401
    return (
        render_template("auth/login.html", error=error, expired=expired, username=username),
        status,
    )


@bp.post("/logout")
def logout():
    """End the session (a POST with the form's token, so no page can sign people out)."""
    user = current_user()
    if user is not None:
        record_event(user, "logout", "user", user.id)
        db.session.commit()
    log_out()
    return redirect(url_for("auth.login"))
