"""Bearer tokens for the JSON API: scoped by the token's user role exactly as the screens."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, request
from flask_babel import gettext as _

from hotline.accounts.users import user_for_token
from hotline.api.replies import error
from models import db


def token_required(*roles: str) -> Callable:
    """A valid bearer token (else 401) whose user has one of ``roles`` (else 403).

    The roles are kept on the view (``api_roles``) so the OpenAPI document declares the 401
    and, when roles are given, the 403 answer."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _sep, token = header.partition(" ")
            user = None
            if scheme.lower() == "bearer" and token.strip():
                user = user_for_token(token.strip())
            if user is None:
                db.session.rollback()
                response = error(401, _("A valid API token is needed."))
                response[0].headers["WWW-Authenticate"] = 'Bearer realm="hotline"'
                return response
            db.session.commit()  # records when the token was used
            if roles and user.role not in roles:
                return error(403, _("Your role cannot use this."))
            g.api_user = user
            return view(*args, **kwargs)

        wrapped.api_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorator
