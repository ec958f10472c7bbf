"""Creating users, checking passwords and issuing API tokens."""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from collections.abc import Sequence
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import gettext as _

from hotline.accounts.passwords import MIN_LENGTH, is_common
from hotline.accounts.sessions import end_sessions
from hotline.audit import record_event
from hotline.errors import ValidationError
from hotline.phones import normalise_phone
from models import ApiToken, ServicePoint, User, db
from models.types import utcnow
from routing.codes import ROLES

_production_hasher = PasswordHasher()
#: Tests hash thousands of passwords; argon2's lowest cost keeps the suite fast while the
#: code path (argon2id, verify, rehash) stays the same.
_test_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _hasher() -> PasswordHasher:
    if has_app_context() and current_app.config.get("HOTLINE_ENV") == "test":
        return _test_hasher
    return _production_hasher


MIN_PASSWORD_LENGTH = MIN_LENGTH
TOKEN_PREFIX = "hl_"  # noqa: S105 - a prefix that makes leaked tokens easy to spot
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    """Verify a password; upgrade the stored hash when argon2's parameters changed."""
    try:
        _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    return True


def _service_points(
    role: str, codes: Sequence[str], errors: dict[str, list[str]]
) -> list[ServicePoint]:
    """The service points of ``codes``; unknown codes, or a social worker without any,
    add to ``errors["service_point"]``."""
    points: list[ServicePoint] = []
    for code in dict.fromkeys(codes):
        point = db.session.scalar(db.select(ServicePoint).where(ServicePoint.code == code))
        if point is None:
            errors.setdefault("service_point", []).append(
                _("Unknown service point %(code)s.", code=code)
            )
        else:
            points.append(point)
    if role == "social_worker" and not codes:
        errors.setdefault("service_point", []).append(
            _("A social worker needs at least one service point.")
        )
    return points


def _check_password(
    password: str, errors: dict[str, list[str]], username: str | None = None
) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.setdefault("password", []).append(
            _("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
        )
    elif is_common(password, username=username):
        errors.setdefault("password", []).append(
            _("This password is too common or contains the username; choose another.")
        )


def create_user(
    username: str,
    password: str,
    role: str,
    *,
    service_point_codes: Sequence[str] = (),
    phone: str | None = None,
    on_duty: bool = False,
    actor: str = "cli",
    is_sample: bool = False,
) -> User:
    """Validate and add a user to the current transaction; raise ValidationError otherwise."""
    errors: dict[str, list[str]] = {}
    username = username.strip()
    if not USERNAME_PATTERN.match(username):
        errors.setdefault("username", []).append(
            _("A username has 1–80 letters, digits, '.', '_' or '-'.")
        )
    elif db.session.scalar(db.select(User.id).where(User.username == username)) is not None:
        errors.setdefault("username", []).append(_("This username is already taken."))
    if role not in ROLES:
        errors.setdefault("role", []).append(
            _("Unknown role; choose one of: %(roles)s.", roles=", ".join(ROLES))
        )
    _check_password(password, errors)
    e164 = None
    if phone:
        e164 = normalise_phone(phone)
        if e164 is None:
            errors.setdefault("phone", []).append(_("This is not a valid phone number."))
    points = _service_points(role, service_point_codes, errors)
    if on_duty and not e164:
        errors.setdefault("phone", []).append(_("Someone on duty needs a phone number."))
    if errors:
        raise ValidationError(errors)
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        phone=e164,
        on_duty=on_duty,
        service_points=points,
        is_sample=is_sample,
    )
    db.session.add(user)
    db.session.flush()
    record_event(actor, "user.create", "user", user.id, {"role": role})
    return user


def change_role(
    user: User,
    role: str,
    service_point_codes: Sequence[str] = (),
    *,
    actor: User | str,
) -> bool:
    """Set ``user``'s role and service points (validated as in :func:`create_user`; an
    administrator cannot take away their own admin role). Returns whether anything changed;
    raise ValidationError otherwise. Adds to the current transaction."""
    errors: dict[str, list[str]] = {}
    if role not in ROLES:
        errors.setdefault("role", []).append(
            _("Unknown role; choose one of: %(roles)s.", roles=", ".join(ROLES))
        )
    elif isinstance(actor, User) and actor.id == user.id and user.role == "admin" != role:
        errors.setdefault("role", []).append(_("You cannot remove your own admin role."))
    points = _service_points(role, service_point_codes, errors)
    if errors:
        raise ValidationError(errors)
    old_codes = sorted(p.code for p in user.service_points)
    new_codes = sorted(p.code for p in points)
    if user.role == role and old_codes == new_codes:
        return False
    details: dict[str, object] = {"role": role, "service_points": new_codes}
    if user.role != role:
        details["previous_role"] = user.role
    user.role = role
    user.service_points = points
    if role not in ("operator", "social_worker"):
        user.on_duty = False
    record_event(actor, "user.role", "user", user.id, details)
    return True


def set_password(
    user: User, password: str, *, actor: User | str, keep_session: str | None = None
) -> None:
    """Set a new password (argon2); raise ValidationError when it is too short or common.

    Every session of ``user`` ends at once but ``keep_session`` (the one changing its own
    password)."""
    errors: dict[str, list[str]] = {}
    _check_password(password, errors, user.username)
    if errors:
        raise ValidationError(errors)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    record_event(actor, "user.password", "user", user.id)
    end_sessions(user, keep=keep_session, actor=actor)


def change_own_password(user: User, current: str, new: str, *, keep_session: str | None) -> None:
    """The user's own change: the current password first; raise ValidationError."""
    if not check_password(user, current):
        record_event(user, "user.password_refused", "user", user.id)
        raise ValidationError({"current_password": [_("The current password is wrong.")]})
    if current == new:
        raise ValidationError({"new_password": [_("Choose a password you have not used here.")]})
    try:
        set_password(user, new, actor=user, keep_session=keep_session)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.errors["password"]}) from None


def deactivate(user: User, *, actor: User | str) -> None:
    """Deactivate ``user``: their sessions end and their API tokens are revoked at once."""
    user.active = False
    user.on_duty = False
    revoke_tokens(user, actor=actor)
    end_sessions(user, actor=actor)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


#: Days an API token works unless ``users token --expires-days`` says otherwise.
TOKEN_DAYS = 90


def issue_token(user: User, *, actor: User | str = "cli", expires_days: int = TOKEN_DAYS) -> str:
    """Create a new API token for ``user`` that stops working after ``expires_days``; only
    its hash is stored, so show it once."""
    if expires_days < 1:
        raise ValidationError({"expires_days": [_("A token lasts at least one day.")]})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(days=expires_days)
    db.session.add(ApiToken(user=user, token_hash=_token_hash(token), expires_at=expires_at))
    record_event(actor, "token.issue", "user", user.id, {"expires_days": expires_days})
    return token


def revoke_tokens(user: User, *, actor: User | str) -> int:
    """Revoke every working token of ``user`` (the next API call with one is 401); returns
    how many. Adds to the current transaction."""
    now = utcnow()
    count = 0
    for token in user.tokens:
        if token.revoked_at is None:
            token.revoked_at = now
            count += 1
    if count:
        record_event(actor, "token.revoke", "user", user.id, {"tokens": count})
    return count


def user_for_token(token: str) -> User | None:
    """The active user holding an unrevoked, unexpired token, or None (records when it
    was used)."""
    row = db.session.scalar(
        db.select(ApiToken).where(
            ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None or not row.user.active:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    row.last_used_at = utcnow()
    return row.user


#: Wrong passwords in a row before an account is locked, and for how long.
LOCK_AFTER_FAILURES = 5
LOCK_MINUTES = 15
# Verified against when the username is unknown, so both paths cost one argon2 check.
_DUMMY_HASHES = {
    id(h): h.hash("not-a-real-password-only-for-timing")
    for h in (_production_hasher, _test_hasher)
}


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, or None.

    Counts wrong passwords in the database (so the lockout holds across web processes and
    without Redis); after :data:`LOCK_AFTER_FAILURES` the account is locked for
    :data:`LOCK_MINUTES`, even against the right password. Adds to the current
    transaction; the caller commits.
    """
    user = db.session.scalar(db.select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher().verify(_DUMMY_HASHES[id(_hasher())], password)
        return None
    if is_locked(user):
        check_password(user, password)
        record_event(user, "login.refused_locked", "user", user.id)
        return None
    if check_password(user, password):
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = utcnow()
        record_event(user, "login", "user", user.id)
        return user
    user.failed_logins = (user.failed_logins or 0) + 1
    record_event(user, "login.failed", "user", user.id, {"failures": user.failed_logins})
    if user.failed_logins >= LOCK_AFTER_FAILURES:
        user.locked_until = utcnow() + timedelta(minutes=LOCK_MINUTES)
        user.failed_logins = 0
        record_event(user, "user.locked", "user", user.id, {"minutes": LOCK_MINUTES})
    return None


def unlock(user: User, *, actor: User | str) -> None:
    """Clear a lockout (an administrator's action)."""
    user.failed_logins = 0
    user.locked_until = None
    record_event(actor, "user.unlock", "user", user.id)
