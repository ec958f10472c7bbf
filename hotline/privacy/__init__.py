"""Keyed hashes of phone numbers: find repeat callers and opt-outs without decrypting."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy.exc import IntegrityError

from models import AppSecret, db

_HASH_KEY_NAME = "number_hash_key"
_cache: dict[str, bytes] = {}


def _hash_key() -> bytes:
    """The hash key, generated on first use and stored encrypted (cached per process)."""
    bind = str(db.engine.url)
    key = _cache.get(bind)
    if key is not None:
        return key
    row = db.session.get(AppSecret, _HASH_KEY_NAME)
    if row is None:
        # A nested transaction so a concurrent first use by another process is harmless.
        try:
            with db.session.begin_nested():
                row = AppSecret(name=_HASH_KEY_NAME, value=secrets.token_hex(32))
                db.session.add(row)
        except IntegrityError:
            row = db.session.get(AppSecret, _HASH_KEY_NAME)
    key = bytes.fromhex(row.value)
    _cache[bind] = key
    return key


def number_hash(e164: str) -> str:
    """HMAC-SHA256 of a phone number in E.164 form (hex)."""
    return hmac.new(_hash_key(), e164.encode("ascii"), hashlib.sha256).hexdigest()


def stored_secrets_readable() -> bool:
    """Whether the configured field keys decrypt the secrets stored in the database.

    False means ``FIELD_ENCRYPTION_KEYS`` lost a key still in use: every request needing
    the number hash would fail, so readiness must say so instead of serving.
    """
    try:
        for (value,) in db.session.execute(db.select(AppSecret.value)):
            bytes.fromhex(value)
    except ValueError:
        db.session.rollback()
        return False
    return True
