"""The browser screens (login, operator board and intake, case page, social-worker inbox,
manager home, administration) and the JSON API, with their security wiring."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Flask, abort, request
from sqlalchemy import event

from hotline.labels import init_labels
from hotline.web.proxy import init_proxy
from hotline.web.read_audit import init_read_audit
from hotline.web.security import init_security
from models import AuditEvent


def _refuse_audit_change(_mapper, _connection, target) -> None:
    raise RuntimeError(f"audit events are append-only (id {target.id})")


def _refuse_nul_bytes():
    """No database column can hold NUL; refuse it up front instead of failing on write."""
    if request.path.startswith("/twilio/"):
        return None
    values = [request.path, *request.args.values()]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype != "multipart/form-data":
        values += [v for vs in request.form.listvalues() for v in vs]
    if any("\x00" in v for v in values):
        abort(400)
    return None


def init_web(
    app: Flask, *, csrf_exempt: Iterable[Blueprint] = (), sessionless: tuple[str, ...] = ()
) -> None:
    """Security (sessions, CSRF, headers), labels and request guards of the screens; the
    blueprints themselves are registered by the app factory. ``csrf_exempt``: blueprints
    that do not use the session cookie (bearer-token API, signed provider webhooks);
    ``sessionless``: path prefixes whose requests get no session (the webhooks)."""
    init_proxy(app)
    init_security(app, csrf_exempt=csrf_exempt, sessionless=sessionless)
    init_labels(app)
    init_read_audit(app)
    app.before_request(_refuse_nul_bytes)
    if not event.contains(AuditEvent, "before_update", _refuse_audit_change):
        event.listen(AuditEvent, "before_update", _refuse_audit_change)
        event.listen(AuditEvent, "before_delete", _refuse_audit_change)
