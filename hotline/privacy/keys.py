"""Key rotation: re-encrypt every encrypted column with the newest field key.

Columns are found from the models (every ``EncryptedText`` column of every table), so a
personal field added later is rotated too. Values already under the newest key are left
as they are, which makes a second run a no-op and an interrupted run safe to repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import Column, Table, Text, select, type_coerce, update

from models import db
from models.types import EncryptedText, keyring

BATCH = 500


@dataclass
class RotateResult:
    rotated: int = 0
    current: int = 0


def encrypted_columns() -> Iterator[tuple[Table, Column]]:
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                yield table, column


def _primary_key(table: Table) -> Column:
    (pk,) = table.primary_key.columns
    return pk


def count_encrypted() -> int:
    total = 0
    for table, column in encrypted_columns():
        total += db.session.scalar(
            select(db.func.count()).select_from(table).where(column.is_not(None))
        )
    return total


def rotate_keys(progress: Callable[[int], None] | None = None) -> RotateResult:
    """Re-encrypt each stored value not yet under the newest key; commit batch by batch."""
    newest = Fernet(current_app.config["FIELD_ENCRYPTION_KEYS"][0])
    result = RotateResult()
    for table, column in encrypted_columns():
        pk = _primary_key(table)
        raw = type_coerce(column, Text)  # the stored ciphertext, not the decrypted value
        last = None
        while True:
            query = select(pk, raw).where(column.is_not(None)).order_by(pk).limit(BATCH)
            if last is not None:
                query = query.where(pk > last)
            rows = db.session.execute(query).all()
            if not rows:
                break
            for row_id, token in rows:
                try:
                    newest.decrypt(token.encode("ascii"))
                    result.current += 1
                    continue
                except InvalidToken:
                    pass
                db.session.execute(
                    update(table)
                    .where(pk == row_id)
                    .values({column.name: type_coerce(keyring.rotate(token), Text)})
                )
                result.rotated += 1
            db.session.commit()
            last = rows[-1][0]
            if progress:
                progress(len(rows))
    return result
