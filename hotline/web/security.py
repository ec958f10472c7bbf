"""Sessions, roles, CSRF and security headers for the browser screens.

CSRF is Flask-WTF's ``CSRFProtect`` (bound in :func:`init_security`): every POST, PUT,
PATCH and DELETE must carry the session's token, as the ``csrf_token`` form field
(``{{ csrf_token() }}`` in the templates) or the ``X-CSRF-Token`` header (``app.js``),
login and logout included. The JSON API (bearer tokens, no cookies) and the provider
webhooks (signed by the provider) are exempt by blueprint, passed in by the app factory.
The token lives as long as the session (``WTF_CSRF_TIME_LIMIT = None``): a long intake
form filled during a call never loses it, and the session itself ends after
``SESSION_IDLE_MINUTES`` idle or ``SESSION_MAX_HOURS``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from hotline.accounts import sessions, twofactor
from hotline.errors import http_error_response
from hotline.extensions import csrf
from models import User, db

#: Defaults; each can be overridden in the config dict (``create_app(test_config=…)``).
DEFAULTS: dict[str, Any] = {
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 12,
    "LOGIN_RATE_LIMIT": 20,  # attempts per address …
    "LOGIN_ACCOUNT_RATE_LIMIT": 10,  # … and per account (password or code) …
    "LOGIN_RATE_WINDOW_SECONDS": 600,  # … in this window
    # The CSRF token is valid as long as the session (no separate expiry).
    "WTF_CSRF_TIME_LIMIT": None,
    # Flask-WTF would also demand a same-origin Referer on HTTPS, but the pages send
    # ``Referrer-Policy: no-referrer``, so browsers send none; the token and the SameSite
    # session cookie are the protection.
    "WTF_CSRF_SSL_STRICT": False,
}
#: Endpoints polled by pages: they do not count as activity for the idle timeout.
PASSIVE_ENDPOINTS = {"operator.board_data"}
#: What someone who must enrol two-factor sign-in may still reach (everything else sends
#: them to the enrolment page).
ENROLMENT_ENDPOINTS = {"account.two_factor", "auth.logout", "auth.login", "static"}

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
    """Start a fresh session for ``user`` (a new CSRF token: no session fixation), with its
    server-side record (committed)."""
    _clear_session()
    now = int(time.time())
    session["uid"] = user.id
    session["sid"] = sessions.start_session(user, request.headers.get("User-Agent"))
    session["login_at"] = now
    session["seen"] = now
    db.session.commit()


def current_session_id() -> str | None:
    return session.get("sid")


def log_out() -> None:
    sid = session.get("sid")
    if sid:
        sessions.end_session(sid)
        db.session.commit()
    _clear_session()


def _clear_session() -> None:
    """Empty the session but for the language; the CSRF token goes with it (the next page
    gets a new one)."""
    lang = session.get("lang")
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
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


def _load_user(app: Flask):
    g.user = None
    uid = session.get("uid")
    if uid is None:
        return None
    now = int(time.time())
    idle = now - int(session.get("seen", 0))
    age = now - int(session.get("login_at", 0))
    user = db.session.get(User, uid)
    record = sessions.live_session(session.get("sid"), uid)
    if (
        user is None
        or not user.active
        or record is None  # ended: signed out elsewhere, password changed, admin's reset
        or idle > app.config["SESSION_IDLE_MINUTES"] * 60
        or age > app.config["SESSION_MAX_HOURS"] * 3600
    ):
        log_out()
        session["expired"] = True
        return None
    g.user = user
    if request.endpoint not in PASSIVE_ENDPOINTS:
        session["seen"] = now
        if sessions.touch(record):
            db.session.commit()
    if request.endpoint not in ENROLMENT_ENDPOINTS and twofactor.must_enrol(user):
        if request.headers.get("X-Requested-With") == "fetch":
            return "", 401
        return redirect(url_for("account.two_factor"))
    return None


def _csrf_failed(app: Flask, exc: CSRFError):
    """A missing, forged or stale token: 400 with the site's error page and a note to try
    again; nothing was changed. Flask-WTF checks before the user is loaded, so load them
    here for the page's header."""
    if "user" not in g:
        _load_user(app)
    flash(_("The form had expired. Please try again."), "error")
    return http_error_response(exc)


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


class _SessionInterface(SecureCookieSessionInterface):
    """The signed cookie session, except under ``sessionless`` path prefixes (the
    providers' webhooks): they sign no one in, and opening and saving a session cost a
    tenth of a webhook's time (DESIGN.md §10). There the session is an empty one that
    is never read from the cookie nor saved (an error page may still write to it)."""

    def __init__(self, sessionless: tuple[str, ...]) -> None:
        self.sessionless = sessionless

    def open_session(self, app: Flask, request):
        if request.path.startswith(self.sessionless):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        if request.path.startswith(self.sessionless):
            return
        super().save_session(app, session, response)


def init_security(
    app: Flask, *, csrf_exempt: Iterable[Blueprint] = (), sessionless: tuple[str, ...] = ()
) -> None:
    """Sessions, CSRF (``csrf_exempt``: blueprints that never use the session cookie) and
    security headers; no session at all under the ``sessionless`` path prefixes."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    if sessionless:
        app.session_interface = _SessionInterface(sessionless)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    # First: the check must see the session as the form was sent, before _load_user may
    # end an expired one (that request then goes to the login page, as any other).
    csrf.init_app(app)
    for blueprint in csrf_exempt:
        csrf.exempt(blueprint)
    app.register_error_handler(CSRFError, lambda exc: _csrf_failed(app, exc))
    app.before_request(lambda: _load_user(app))
    app.after_request(_security_headers)
    app.jinja_env.globals.update(current_user=current_user)
