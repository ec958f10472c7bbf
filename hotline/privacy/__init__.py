"""Keyed hashes of phone numbers: find repeat callers and opt-outs without decrypting."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import insert, select
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
    value = row.value if row is not None else _create_hash_key()
    key = bytes.fromhex(value)
    _cache[bind] = key
    return key


def _create_hash_key() -> str:
    """Generate and store the key, committed on a connection of its own: the caller's
    transaction may never be committed (a webhook writes on the driver's connection,
    ``models.quick``), and the key must outlive it. A concurrent first use by another
    process is harmless: the first key stored wins."""
    table = AppSecret.__table__
    with db.engine.connect() as conn:
        try:
            with conn.begin():
                conn.execute(
                    insert(table).values(name=_HASH_KEY_NAME, value=secrets.token_hex(32))
                )
        except IntegrityError:
            pass
        return conn.scalar(select(table.c.value).where(table.c.name == _HASH_KEY_NAME))


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
