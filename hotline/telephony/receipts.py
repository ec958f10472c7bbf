"""Webhook receipts: the answer given to each provider request, replayed on retries."""

from __future__ import annotations

import re

from sqlalchemy import delete, select

from hotline.phones import normalise_phone
from hotline.privacy import number_hash
from models import WebhookReceipt, db
from models.types import utcnow

_PLAIN_SENDER = re.compile(r"[+0-9A-Za-z]{1,20}")


def find_receipt(provider: str, key: str) -> WebhookReceipt | None:
    return db.session.scalar(
        select(WebhookReceipt).where(
            WebhookReceipt.provider == provider, WebhookReceipt.key == key[:255]
        )
    )


def save_receipt(
    provider: str, key: str, response: str, content_type: str, status_code: int = 200
) -> None:
    """Keep the answer in the current transaction (committed with the work it describes)."""
    db.session.add(
        WebhookReceipt(
            provider=provider,
            key=key[:255],
            response=response,
            content_type=content_type,
            status_code=status_code,
        )
    )


def purge_receipts(older_than_days: int = 7) -> int:
    """Drop receipts too old for any provider retry; returns how many went."""
    from datetime import timedelta

    cutoff = utcnow() - timedelta(days=older_than_days)
    result = db.session.execute(delete(WebhookReceipt).where(WebhookReceipt.created_at < cutoff))
    return result.rowcount or 0


def purge_expired_receipts() -> int:
    """Periodic task (hourly, in the worker): drop receipts past any retry, and commit."""
    removed = purge_receipts()
    db.session.commit()
    return removed


def caller_identity(raw: str | None) -> tuple[str | None, str | None]:
    """The number to store (E.164 when it is one) and its keyed hash.

    Withheld or odd senders ("anonymous", an alphanumeric sender, garbage) are kept as
    given when short and plain, otherwise not at all: (None, None).
    """
    raw = (raw or "").strip()
    if not raw:
        return None, None
    number = normalise_phone(raw) if len(raw) <= 32 else None
    if number is None:
        if not _PLAIN_SENDER.fullmatch(raw):
            return None, None
        number = raw
    return number, number_hash(number)
