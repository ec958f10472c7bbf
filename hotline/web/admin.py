"""Administration: the service directory, users and roles, who is on duty, the audit log.

Administrators never see case contents: the audit log shows who did what to which
reference, not what the case says. Directory edits go through the same validation as the
CSV import (a one-row file), so the form and the file accept exactly the same things.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import or_, select

from hotline.accounts import twofactor
from hotline.accounts.users import (
    MIN_PASSWORD_LENGTH,
    change_role,
    create_user,
    deactivate,
    is_locked,
    revoke_tokens,
    set_password,
    unlock,
)
from hotline.audit import record_event
from hotline.directory.points import (
    COLUMNS,
    OPTIONAL_COLUMNS,
    DirectoryImportError,
    export_directory,
    import_directory,
    parse_directory,
    store_entries,
)
from hotline.errors import ValidationError
from hotline.phones import normalise_phone
from hotline.web.security import current_session_id, current_user, login_required
from models import ApiToken, AuditEvent, ServicePoint, TwoFactor, User, db
from models.types import utcnow
from routing.codes import ROLES, SERVICE_POINT_KINDS, SERVICES

bp = Blueprint("admin", __name__, url_prefix="/admin")

MAX_UPLOAD = 5 * 1024 * 1024
PAGE = 200


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@bp.get("/")
@login_required("admin")
def index():
    """The directory, searchable by code, name or commune code."""
    q = request.args.get("q", "").strip()[:100]
    query = select(ServicePoint).order_by(ServicePoint.active.desc(), ServicePoint.code)
    if q:
        pattern = _like(q)
        query = query.where(
            or_(
                ServicePoint.code.ilike(pattern, escape="\\"),
                ServicePoint.name.ilike(pattern, escape="\\"),
                ServicePoint.commune_code.ilike(pattern, escape="\\"),
            )
        )
    points = db.session.scalars(query.limit(PAGE)).all()
    return render_template("admin/directory.html", points=points, q=q, page=PAGE)


FORM_COLUMNS = COLUMNS + OPTIONAL_COLUMNS


def _point_form_row(form, code: str) -> dict[str, str]:
    row = {c: form.get(c, "").strip() for c in FORM_COLUMNS}
    row["code"] = code
    row["services"] = ";".join(s for s in form.getlist("services") if s)
    return row


@bp.route("/points/new", methods=["GET", "POST"], defaults={"code": None})
@bp.route("/points/<code>", methods=["GET", "POST"])
@login_required("admin")
def edit_point(code: str | None):
    """Create or change one service point (validated like an imported row)."""
    point = None
    if code is not None:
        point = db.session.scalar(select(ServicePoint).where(ServicePoint.code == code[:50]))
        if point is None:
            abort(404)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        new_code = point.code if point else request.form.get("code", "").strip()
        row = _point_form_row(request.form, new_code)
        if point is None and db.session.scalar(
            select(ServicePoint.id).where(ServicePoint.code == new_code)
        ):
            errors["code"] = [_("This code is already in the directory.")]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FORM_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerow(row)
        try:
            entries = parse_directory(out.getvalue().encode("utf-8"))
        except DirectoryImportError as exc:
            for e in exc.errors:
                errors.setdefault(e.column or "form", []).append(e.message)
            entries = []
        if not errors:
            store_entries(entries)
            saved = db.session.scalar(select(ServicePoint).where(ServicePoint.code == new_code))
            saved.active = request.form.get("active") == "yes"
            record_event(current_user(), "directory.edit", "service_point", new_code)
            db.session.commit()
            flash(_("Saved %(code)s.", code=new_code), "ok")
            return redirect(url_for("admin.index", q=new_code))
        db.session.rollback()
        values = row | {"active": request.form.get("active") == "yes"}
    elif point is not None:
        values = {
            c: ("" if getattr(point, c) is None else str(getattr(point, c))) for c in FORM_COLUMNS
        }
        values["active"] = point.active
    else:
        values = {c: "" for c in FORM_COLUMNS} | {"hours": "24/7", "active": True}
    return (
        render_template(
            "admin/point.html",
            point=point,
            values=values,
            chosen_services=[s for s in values.get("services", "").split(";") if s],
            errors=errors,
            kinds=SERVICE_POINT_KINDS,
            services=SERVICES,
        ),
        422 if errors else 200,
    )


@bp.route("/directory/import", methods=["GET", "POST"])
@login_required("admin")
def import_csv():
    """Upload a directory CSV: every row or none; each bad row is listed with its line."""
    row_errors = []
    result = None
    if request.method == "POST":
        upload = request.files.get("file")
        data = upload.read(MAX_UPLOAD + 1) if upload else b""
        if not data:
            flash(_("Choose a CSV file to import."), "error")
        elif len(data) > MAX_UPLOAD:
            flash(_("The file is too large (at most 5 MB)."), "error")
        else:
            try:
                result = import_directory(
                    data,
                    actor=current_user().username,
                    deactivate_missing=request.form.get("deactivate_missing") == "yes",
                )
            except DirectoryImportError as exc:
                row_errors = exc.errors
    return (
        render_template("admin/import.html", row_errors=row_errors, result=result),
        422 if row_errors else 200,
    )


@bp.get("/directory/export.csv")
@login_required("admin")
def export_csv():
    """Download the directory in the import format."""
    out = io.StringIO()
    count = export_directory(out, include_inactive=request.args.get("inactive") == "yes")
    record_event(current_user(), "directory.export", "service_point", details={"rows": count})
    db.session.commit()
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return Response(
        out.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="directory-{stamp}.csv"'},
    )


@bp.route("/users", methods=["GET", "POST"])
@login_required("admin")
def users():
    """Users and roles; create a user."""
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST":
        try:
            user = create_user(
                form.get("username", "")[:80],
                form.get("password", "")[:1024],
                form.get("role", ""),
                service_point_codes=_codes(form),
                phone=form.get("phone", "").strip()[:30] or None,
                on_duty=form.get("on_duty") == "yes",
                actor=current_user().username,
            )
            db.session.commit()
            flash(_("User %(username)s created.", username=user.username), "ok")
            return redirect(url_for("admin.users"))
        except ValidationError as exc:
            db.session.rollback()
            errors = exc.errors if isinstance(exc.errors, dict) else {"form": exc.errors}
    people = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    tokens: dict[int, list[ApiToken]] = {}
    for token in db.session.scalars(
        select(ApiToken)
        .where(
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at.is_(None) | (ApiToken.expires_at > utcnow()),
        )
        .order_by(ApiToken.created_at)
    ):
        tokens.setdefault(token.user_id, []).append(token)
    enrolled = set(
        db.session.scalars(select(TwoFactor.user_id).where(TwoFactor.confirmed_at.is_not(None)))
    )
    return (
        render_template(
            "admin/users.html",
            people=people,
            roles=ROLES,
            errors=errors,
            form=form,
            is_locked=is_locked,
            min_password=MIN_PASSWORD_LENGTH,
            tokens=tokens,
            enrolled=enrolled,
            required_roles=twofactor.REQUIRED_ROLES,
        ),
        422 if errors else 200,
    )


def _codes(form) -> list[str]:
    """Service point codes typed in one field, separated by commas or semicolons."""
    raw = form.get("service_points", "")[:2000].replace(";", ",")
    return [c for c in (c.strip() for c in raw.split(",")) if c]


def _flash_errors(exc: ValidationError) -> None:
    errors = exc.errors.values() if isinstance(exc.errors, dict) else [exc.errors]
    for messages in errors:
        for message in messages:
            flash(message, "error")


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id) if user_id < 2**31 else None
    if user is None:
        abort(404)
    return user


@bp.post("/users/<int:user_id>/duty")
@login_required("admin")
def duty(user_id: int):
    """Switch someone on or off duty (and set the phone that rings)."""
    user = _user(user_id)
    on = request.form.get("on_duty") == "yes"
    raw_phone = request.form.get("phone", "").strip()[:30]
    if raw_phone:
        phone = normalise_phone(raw_phone)
        if phone is None:
            flash(_("This is not a valid phone number."), "error")
            return redirect(url_for("admin.users"))
        user.phone = phone
    if on and not user.phone:
        flash(_("Someone on duty needs a phone number."), "error")
        return redirect(url_for("admin.users"))
    user.on_duty = on
    record_event(current_user(), "user.duty", "user", user.id, {"on_duty": on})
    db.session.commit()
    flash(
        _("%(username)s is on duty.", username=user.username)
        if on
        else _("%(username)s is off duty.", username=user.username),
        "ok",
    )
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/unlock")
@login_required("admin")
def unlock_user(user_id: int):
    """Clear a sign-in lockout."""
    user = _user(user_id)
    unlock(user, actor=current_user())
    db.session.commit()
    flash(_("%(username)s can sign in again.", username=user.username), "ok")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
@login_required("admin")
def set_active(user_id: int):
    """Deactivate (or reactivate) an account; a deactivated user's sessions and tokens stop."""
    user = _user(user_id)
    if user.id == current_user().id:
        flash(_("You cannot deactivate your own account."), "error")
        return redirect(url_for("admin.users"))
    active = request.form.get("active") == "yes"
    if active:
        user.active = True
    else:
        deactivate(user, actor=current_user())
    record_event(current_user(), "user.active", "user", user.id, {"active": user.active})
    db.session.commit()
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/tokens/revoke")
@login_required("admin")
def revoke_user_tokens(user_id: int):
    """Revoke every API token of a user (the next API call with one is refused)."""
    user = _user(user_id)
    count = revoke_tokens(user, actor=current_user())
    db.session.commit()
    flash(
        _("%(count)d API tokens of %(username)s revoked.", count=count, username=user.username),
        "ok",
    )
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/two-factor")
@login_required("admin")
def two_factor(user_id: int):
    """Require two-factor sign-in of a user, or reset their second factor (lost phone)."""
    user = _user(user_id)
    action = request.form.get("action")
    if action == "reset":
        twofactor.reset(user, actor=current_user())
        flash(_("Two-factor sign-in of %(username)s was reset.", username=user.username), "ok")
    elif action in ("require", "optional"):
        twofactor.require(user, action == "require", actor=current_user())
    else:
        abort(422)
    db.session.commit()
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/role")
@login_required("admin")
def set_role(user_id: int):
    """Change someone's role and service points (an admin cannot drop their own admin role)."""
    user = _user(user_id)
    try:
        changed = change_role(
            user, request.form.get("role", "")[:40], _codes(request.form), actor=current_user()
        )
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        _flash_errors(exc)
        return redirect(url_for("admin.users"))
    if changed:
        flash(_("Saved the role of %(username)s.", username=user.username), "ok")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/password")
@login_required("admin")
def set_user_password(user_id: int):
    """Set a new password for someone (they are told it out of band)."""
    user = _user(user_id)
    try:
        set_password(
            user,
            request.form.get("password", "")[:1024],
            actor=current_user(),
            # Their every session ends; an administrator setting their own keeps this one.
            keep_session=current_session_id() if user.id == current_user().id else None,
        )
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        _flash_errors(exc)
        return redirect(url_for("admin.users"))
    flash(_("New password set for %(username)s.", username=user.username), "ok")
    return redirect(url_for("admin.users"))


@bp.get("/audit")
@login_required("admin")
def audit():
    """The audit trail, newest first; filter by object (e.g. a case reference) or person."""
    q = request.args.get("q", "").strip()[:80]
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if q:
        query = query.where(or_(AuditEvent.object_id == q, AuditEvent.actor_label == q))
    events = db.session.scalars(query.limit(PAGE)).all()
    return render_template("admin/audit.html", events=events, q=q, page=PAGE)
