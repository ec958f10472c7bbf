"""Column types: UTC timestamps and field-level encryption of personal data."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Keyring:
    """The Fernet keys for personal fields, newest first (``FIELD_ENCRYPTION_KEYS``).

    Configured once per process by the application factory; encrypting with the newest
    key and decrypting with any lets keys rotate without downtime.
    """

    def __init__(self) -> None:
        self._fernet: MultiFernet | None = None

    def configure(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one field encryption key is required")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    @property
    def fernet(self) -> MultiFernet:
        if self._fernet is None:
            raise RuntimeError("field encryption keys are not configured")
        return self._fernet

    def encrypt(self, plaintext: str) -> str:
        return self.fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self.fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            # The message names no value: the token itself could identify a person.
            raise ValueError("encrypted field cannot be read with the configured keys") from exc

    def encrypt_bytes(self, plaintext: bytes) -> str:
        return self.fernet.encrypt(plaintext).decode("ascii")

    def decrypt_bytes(self, token: str) -> bytes:
        try:
            return self.fernet.decrypt(token.encode("ascii"))
        except InvalidToken as exc:
            raise ValueError("encrypted field cannot be read with the configured keys") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt a stored token with the newest key."""
        return self.fernet.rotate(token.encode("ascii")).decode("ascii")


keyring = Keyring()


class EncryptedText(TypeDecorator[str]):
    """Text encrypted at rest with :data:`keyring` (phone numbers, notes, bodies, URLs)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return None if value is None else keyring.encrypt(value)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        return None if value is None else keyring.decrypt(value)


#: Starts the plaintext of a :class:`PackedText` value that was compressed (NUL: never in
#: stored text).
_PACKED = b"\x00z1"


class PackedText(EncryptedText):
    """Long, repetitive text (a call's last TwiML answer), compressed, then encrypted like
    :class:`EncryptedText`: a menu's answer then stays in its row instead of PostgreSQL's
    TOAST table (half its size after encryption; written at every step of a call). Values
    stored uncompressed are read as they are."""

    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        if value is None:
            return None
        return keyring.encrypt_bytes(_PACKED + zlib.compress(value.encode("utf-8")))

    def process_result_value(self, value: str | None, dialect) -> str | None:
        if value is None:
            return None
        data = keyring.decrypt_bytes(value)
        if data.startswith(_PACKED):
            data = zlib.decompress(data[len(_PACKED) :])
        return data.decode("utf-8")
