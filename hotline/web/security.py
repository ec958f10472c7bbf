"""Sessions, roles, CSRF and security headers for the browser screens.

CSRF is a small signed-token implementation rather than Flask-WTF: the screens are plain
HTML forms validated by the domain services (``parse_case_body`` and friends), so a form
library would add a second validation layer; what is needed is one random token per
session, compared in constant time on every state-changing request. The JSON API (bearer
tokens, no cookies) and the provider webhooks (signed by the provider) are exempt, and
requests without a signed-in session are not checked (see ``_check_csrf``).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Flask,
    abort,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from models import User, db

#: Defaults; each can be overridden in the config dict (``create_app(test_config=…)``).
DEFAULTS: dict[str, Any] = {
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 12,
    "LOGIN_RATE_LIMIT": 20,  # attempts per address …
    "LOGIN_RATE_WINDOW_SECONDS": 600,  # … in this window
    "CSRF_EXEMPT_PREFIXES": ("/api/", "/twilio/"),
}
#: Endpoints polled by pages: they do not count as activity for the idle timeout.
PASSIVE_ENDPOINTS = {"operator.board_data"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: Checked even without a signed-in session.
CSRF_ALWAYS = {"auth.login", "auth.logout"}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)

HOME_ENDPOINTS = {
    "operator": "operator.board",
    "social_worker": "inbox.index",
    "manager": "dashboard.index",
    "admin": "admin.index",
}


def current_user() -> User | None:
    return g.get("user")


def home_url(user: User) -> str:
    return url_for(HOME_ENDPOINTS.get(user.role, "home.index"))


def log_in(user: User) -> None:
    """Start a fresh session for ``user`` (a new CSRF token: no session fixation)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    now = int(time.time())
    session["uid"] = user.id
    session["login_at"] = now
    session["seen"] = now
    session["csrf"] = secrets.token_urlsafe(32)


def log_out() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def login_required(*roles: str) -> Callable:
    """Only a signed-in user, and only with one of ``roles`` when given (else 403)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                if request.headers.get("X-Requested-With") == "fetch":
                    return "", 401  # the page shows "signed out" instead of going blank
                if request.method == "GET":
                    return redirect(url_for("auth.login", next=request.full_path))
                return redirect(url_for("auth.login"))
            if roles and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _csrf_exempt(app: Flask) -> bool:
    return request.path.startswith(tuple(app.config["CSRF_EXEMPT_PREFIXES"]))


def _load_user(app: Flask):
    g.user = None
    uid = session.get("uid")
    if uid is None:
        return None
    now = int(time.time())
    idle = now - int(session.get("seen", 0))
    age = now - int(session.get("login_at", 0))
    user = db.session.get(User, uid)
    if (
        user is None
        or not user.active
        or idle > app.config["SESSION_IDLE_MINUTES"] * 60
        or age > app.config["SESSION_MAX_HOURS"] * 3600
    ):
        log_out()
        session["expired"] = True
        return None
    g.user = user
    if request.endpoint not in PASSIVE_ENDPOINTS:
        session["seen"] = now
    return None


def _check_csrf(app: Flask):
    """Check the token on every state-changing request that rides on a signed-in session,
    and on the login form itself (login CSRF). A request without a signed-in session
    carries no authority a forged request could borrow, so it is left to its own checks
    (provider signatures, link tokens)."""
    if request.method not in UNSAFE_METHODS or _csrf_exempt(app):
        return None
    if g.get("user") is None and request.endpoint not in CSRF_ALWAYS:
        return None
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        flash(_("The form had expired. Please try again."), "error")
        abort(400)
    return None


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if g.get("user") is not None or request.path.startswith("/api/"):
        # Shared phones: pages with personal data must not stay in the browser's cache.
        response.headers["Cache-Control"] = "no-store"
    return response


def init_security(app: Flask, *, csrf_exempt: tuple[str, ...] = ()) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config["CSRF_EXEMPT_PREFIXES"] = tuple(
        dict.fromkeys([*app.config["CSRF_EXEMPT_PREFIXES"], *csrf_exempt])
    )
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.before_request(lambda: _load_user(app))
    app.before_request(lambda: _check_csrf(app))
    app.after_request(_security_headers)
    app.jinja_env.globals.update(csrf_token=csrf_token, current_user=current_user)
