"""Two-factor sign-in with TOTP (RFC 6238: 30-second steps, 6 digits) and recovery codes.

The secret is stored encrypted (:class:`models.types.EncryptedText`). A code is accepted
for the current step and one step either side (clock drift), and never for a step at or
before the last one accepted, so a code seen over someone's shoulder cannot be replayed.
Recovery codes are shown once, stored as SHA-256 (they are long and random), and each
works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
import time

import pyotp
import segno
from flask import current_app, has_app_context

from hotline.audit import record_event
from models import RecoveryCode, TwoFactor, User, db
from models.types import utcnow

ISSUER = "Hotline 18001769"
STEP_SECONDS = 30
DIGITS = 6
RECOVERY_CODES = 10
#: Roles that must enrol at their first sign-in.
REQUIRED_ROLES = ("admin", "manager")


def _sample_exempt(user: User) -> bool:
    """Demo admins and managers (refused in production) need not enrol, outside production
    only, so the development server and the tests stay usable; an administrator's
    explicit requirement still holds for them."""
    env = current_app.config.get("HOTLINE_ENV") if has_app_context() else "production"
    return user.is_sample and env != "production"


def factor(user: User) -> TwoFactor | None:
    return db.session.get(TwoFactor, user.id)


def is_enrolled(user: User) -> bool:
    row = factor(user)
    return row is not None and row.confirmed_at is not None


def must_enrol(user: User) -> bool:
    """Whether ``user`` has to enrol before any page is served."""
    by_role = user.role in REQUIRED_ROLES and not _sample_exempt(user)
    if not (user.totp_required or by_role):
        return False
    return not is_enrolled(user)


def start_enrolment(user: User) -> str:
    """A new pending secret for ``user`` (replacing a pending one); returns it."""
    row = factor(user)
    secret = pyotp.random_base32()
    if row is None:
        db.session.add(TwoFactor(user_id=user.id, secret=secret, last_step=0))
    elif row.confirmed_at is None:
        row.secret = secret
    else:
        raise ValueError("already enrolled")
    return secret


def pending_secret(user: User) -> str | None:
    row = factor(user)
    return row.secret if row is not None and row.confirmed_at is None else None


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=user.username, issuer_name=ISSUER
    )


def qr_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an inline SVG data URI (made here: no external service)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _matching_step(secret: str, code: str, last_step: int, now: float | None = None) -> int:
    """The time step ``code`` belongs to (now ±1 step, after ``last_step``), or 0."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return 0
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int((now if now is not None else time.time()) // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if step > last_step and hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return 0


def _hash(code: str) -> str:
    normal = "".join(code.split()).replace("-", "").lower()
    return hashlib.sha256(normal.encode("ascii", "ignore")).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(c)) for c in codes)
    return codes


def confirm_enrolment(user: User, code: str) -> list[str] | None:
    """Finish enrolment with a first code from the app; returns the recovery codes (show
    them once), or None when the code is wrong."""
    row = factor(user)
    if row is None or row.confirmed_at is not None:
        return None
    step = _matching_step(row.secret, code, row.last_step)
    if not step:
        return None
    row.last_step = step
    row.confirmed_at = utcnow()
    record_event(user, "2fa.enrol", "user", user.id)
    return _new_recovery_codes(user)


def verify(user: User, code: str) -> bool:
    """Check a sign-in code: a TOTP code not used before, or an unused recovery code
    (which is then spent). Records the outcome."""
    row = factor(user)
    if row is None or row.confirmed_at is None:
        return False
    step = _matching_step(row.secret, code, row.last_step)
    if step:
        row.last_step = step
        record_event(user, "2fa.ok", "user", user.id)
        return True
    if len("".join(code.split())) > DIGITS:
        spare = db.session.scalar(
            db.select(RecoveryCode).where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _hash(code),
                RecoveryCode.used_at.is_(None),
            )
        )
        if spare is not None:
            spare.used_at = utcnow()
            record_event(user, "2fa.recovery_code", "user", user.id)
            return True
    record_event(user, "2fa.failed", "user", user.id)
    return False


def remaining_recovery_codes(user: User) -> int:
    return db.session.scalar(
        db.select(db.func.count()).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )


def new_recovery_codes(user: User) -> list[str]:
    """Replace the recovery codes (the old ones stop working)."""
    record_event(user, "2fa.recovery_codes", "user", user.id)
    return _new_recovery_codes(user)


def reset(user: User, *, actor: User | str) -> None:
    """Remove ``user``'s second factor and recovery codes (they enrol again; an
    administrator's action when a phone is lost, or the user's own). Reset by someone
    else, every session of the user ends too: the lost phone may be signed in."""
    from hotline.accounts.sessions import end_sessions

    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(db.delete(TwoFactor).where(TwoFactor.user_id == user.id))
    record_event(actor, "2fa.reset", "user", user.id)
    if not (isinstance(actor, User) and actor.id == user.id):
        end_sessions(user, actor=actor)


def require(user: User, required: bool, *, actor: User | str) -> None:
    if user.totp_required != required:
        user.totp_required = required
        record_event(actor, "2fa.require", "user", user.id, {"required": required})
