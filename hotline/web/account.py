"""Each person's own account page: password, language, two-factor sign-in, sessions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from hotline.accounts import sessions, twofactor
from hotline.accounts.users import MIN_PASSWORD_LENGTH, change_own_password, check_password
from hotline.audit import record_event
from hotline.errors import ValidationError
from hotline.i18n import LANGUAGES
from hotline.web.security import current_session_id, current_user, home_url, login_required
from models import UserSession, db

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("")
@login_required()
def index():
    """The signed-in person's own page."""
    user = current_user()
    return render_template(
        "account/index.html",
        user=user,
        sessions=sessions.open_sessions(user),
        current_sid=current_session_id(),
        enrolled=twofactor.is_enrolled(user),
        recovery_left=twofactor.remaining_recovery_codes(user),
        min_password=MIN_PASSWORD_LENGTH,
        errors={},
    )


@bp.post("/password")
@login_required()
def password():
    """Change one's own password; every other session of the account ends."""
    user = current_user()
    try:
        change_own_password(
            user,
            request.form.get("current_password", "")[:1024],
            request.form.get("new_password", "")[:1024],
            keep_session=current_session_id(),
        )
    except ValidationError as exc:
        db.session.commit()  # the refused attempt's audit entry
        page = render_template(
            "account/index.html",
            user=user,
            sessions=sessions.open_sessions(user),
            current_sid=current_session_id(),
            enrolled=twofactor.is_enrolled(user),
            recovery_left=twofactor.remaining_recovery_codes(user),
            min_password=MIN_PASSWORD_LENGTH,
            errors=exc.errors,
        )
        return page, 422
    db.session.commit()
    flash(_("Your password was changed. Your other sessions were ended."), "ok")
    return redirect(url_for("account.index"))


@bp.post("/language")
@login_required()
def language():
    """Save the language of the screens (and of the SMS notices sent to this person)."""
    user = current_user()
    lang = request.form.get("language", "")
    if lang not in LANGUAGES:
        abort(422)
    if user.language != lang:
        user.language = lang
        record_event(user, "user.language", "user", user.id, {"language": lang})
        db.session.commit()
    session["lang"] = lang
    flash(_("Language saved."), "ok")
    return redirect(url_for("account.index"))


@bp.post("/sessions/<sid>/end")
@login_required()
def end_session(sid: str):
    """End one of one's own sessions (signed in on another device)."""
    user = current_user()
    row = db.session.get(UserSession, sid)
    if row is None or row.user_id != user.id:
        abort(404)
    sessions.end_session(sid)
    record_event(user, "session.end", "user", user.id)
    db.session.commit()
    if sid == current_session_id():
        return redirect(url_for("auth.login"))
    flash(_("The session was ended."), "ok")
    return redirect(url_for("account.index"))


@bp.post("/sessions/end-others")
@login_required()
def end_other_sessions():
    """End every session of this account but this one."""
    user = current_user()
    sessions.end_sessions(user, keep=current_session_id(), actor=user)
    db.session.commit()
    flash(_("Your other sessions were ended."), "ok")
    return redirect(url_for("account.index"))


@bp.route("/two-factor", methods=["GET", "POST"])
@login_required()
def two_factor():
    """Enrol two-factor sign-in: the secret as text and as a QR code, then a first code."""
    user = current_user()
    if twofactor.is_enrolled(user):
        return redirect(url_for("account.index"))
    secret = twofactor.pending_secret(user)
    if secret is None:
        secret = twofactor.start_enrolment(user)
        db.session.commit()
    error = None
    status = 200
    if request.method == "POST":
        codes = twofactor.confirm_enrolment(user, request.form.get("code", "")[:20])
        if codes is not None:
            db.session.commit()
            return render_template(
                "account/recovery_codes.html", codes=codes, next_url=home_url(user)
            )
        error = _("The code is wrong. Check the clock of your phone and try the next code.")
        status = 422
    uri = twofactor.provisioning_uri(user, secret)
    return render_template(
        "account/two_factor.html",
        secret=secret,
        qr=twofactor.qr_data_uri(uri),
        required=twofactor.must_enrol(user),
        error=error,
    ), status


@bp.post("/two-factor/reset")
@login_required()
def reset_two_factor():
    """Turn off one's own second factor (the password first); enrol again from here."""
    user = current_user()
    if not check_password(user, request.form.get("current_password", "")[:1024]):
        flash(_("The current password is wrong."), "error")
        return redirect(url_for("account.index"))
    twofactor.reset(user, actor=user)
    db.session.commit()
    return redirect(url_for("account.two_factor"))


@bp.post("/recovery-codes")
@login_required()
def recovery_codes():
    """New recovery codes (the password first); the old ones stop working."""
    user = current_user()
    if not twofactor.is_enrolled(user) or not check_password(
        user, request.form.get("current_password", "")[:1024]
    ):
        flash(_("The current password is wrong."), "error")
        return redirect(url_for("account.index"))
    codes = twofactor.new_recovery_codes(user)
    db.session.commit()
    return render_template(
        "account/recovery_codes.html", codes=codes, next_url=url_for("account.index")
    )
