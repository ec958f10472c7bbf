"""Signing in and out, with the second factor when the user enrolled one.

A correct password for someone with two-factor sign-in does not start a session: the
browser holds only "password checked for user N" (``pending_uid``, for
:data:`CODE_MINUTES`) and is asked for the code at ``/login/code``; only a right code (or
an unused recovery code) starts the session. Someone who must enrol and has not gets a
session that serves nothing but the enrolment page (:mod:`hotline.web.security`).
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from hotline.accounts import twofactor
from hotline.accounts.users import LOCK_AFTER_FAILURES, LOCK_MINUTES, authenticate
from hotline.audit import record_event
from hotline.web.ratelimit import too_many_attempts
from hotline.web.security import current_user, home_url, log_in, log_out
from models import User, db

bp = Blueprint("auth", __name__)
#: How long a checked password waits for its code, and how many wrong codes it allows.
CODE_MINUTES = 5
CODE_TRIES = 5


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
        if too_many_attempts(username):
            error = _("Too many sign-in attempts. Wait a few minutes and try again.")
            status = 429
        elif not username.strip() or not password:
            error = _("Enter your username and password.")
            status = 422
        else:
            user = authenticate(username, password)
            db.session.commit()
            if user is not None and twofactor.is_enrolled(user):
                _clear_pending()
                session["pending_uid"] = user.id
                session["pending_at"] = int(time.time())
                session["pending_next"] = _safe_next(request.args.get("next"))
                return render_template("auth/code.html", error=None)
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


def _clear_pending() -> None:
    for key in ("pending_uid", "pending_at", "pending_next", "pending_tries"):
        session.pop(key, None)


def _pending_user() -> User | None:
    """The user whose password was checked a moment ago, still waiting for the code."""
    uid = session.get("pending_uid")
    if uid is None or int(time.time()) - int(session.get("pending_at", 0)) > CODE_MINUTES * 60:
        return None
    user = db.session.get(User, uid)
    return user if user is not None and user.active else None


@bp.post("/login/code")
def code():
    """The second step: the 6-digit code from the app, or a recovery code."""
    user = _pending_user()
    if user is None:
        _clear_pending()
        session["expired"] = True
        return redirect(url_for("auth.login"))
    if too_many_attempts(user.username):
        return render_template(
            "auth/code.html",
            error=_("Too many sign-in attempts. Wait a few minutes and try again."),
        ), 429
    if twofactor.verify(user, request.form.get("code", "")[:40]):
        target = session.get("pending_next")
        db.session.commit()
        log_in(user)
        return redirect(target or home_url(user))
    db.session.commit()
    tries = int(session.get("pending_tries", 0)) + 1
    if tries >= CODE_TRIES:
        _clear_pending()
        session["expired"] = True
        return redirect(url_for("auth.login"))
    session["pending_tries"] = tries
    return render_template(
        "auth/code.html", error=_("The code is wrong or was already used. Try the next one.")
    ), 401


@bp.post("/logout")
def logout():
    """End the session (a POST with the form's token, so no page can sign people out)."""
    user = current_user()
    if user is not None:
        record_event(user, "logout", "user", user.id)
        db.session.commit()
    log_out()
    return redirect(url_for("auth.login"))
