"""Creating users, checking passwords and issuing API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

from hotline.audit import record_event
from hotline.errors import ValidationError
from hotline.phones import normalise_phone
from models import ApiToken, ServicePoint, User, db
from models.types import utcnow
from routing.codes import ROLES

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "hl_"  # noqa: S105 - a prefix that makes leaked tokens easy to spot
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    """Verify a password; upgrade the stored hash when argon2's parameters changed."""
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


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
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.setdefault("password", []).append(
            _("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
        )
    e164 = None
    if phone:
        e164 = normalise_phone(phone)
        if e164 is None:
            errors.setdefault("phone", []).append(_("This is not a valid phone number."))
    points: list[ServicePoint] = []
    for code in dict.fromkeys(service_point_codes):
        point = db.session.scalar(db.select(ServicePoint).where(ServicePoint.code == code))
        if point is None:
            errors.setdefault("service_point", []).append(
                _("Unknown service point %(code)s.", code=code)
            )
        else:
            points.append(point)
    if role == "social_worker" and not service_point_codes:
        errors.setdefault("service_point", []).append(
            _("A social worker needs at least one service point.")
        )
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


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(user: User, *, actor: str = "cli") -> str:
    """Create a new API token for ``user``; only its hash is stored, so show it once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=_token_hash(token)))
    record_event(actor, "token.issue", "user", user.id)
    return token


def user_for_token(token: str) -> User | None:
    """The active user holding an unrevoked token, or None (records when it was used)."""
    row = db.session.scalar(
        db.select(ApiToken).where(
            ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    return row.user
