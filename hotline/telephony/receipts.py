"""Webhook receipts: the answer given to each provider request, replayed on retries."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from models import WebhookReceipt, db
from models.types import utcnow


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


def answer_once(provider: str, key: str, work: Callable[[], str], content_type: str) -> str:
    """Run ``work`` once per receipt key and commit it with its answer; a repeat of the
    request (or a concurrent twin handled by another worker) gets the stored answer."""
    receipt = find_receipt(provider, key)
    if receipt is not None:
        return receipt.response
    try:
        answer = work()
        save_receipt(provider, key, answer, content_type)
        db.session.commit()
    except IntegrityError:
        # The same request is being (or was just) handled by another worker.
        db.session.rollback()
        receipt = find_receipt(provider, key)
        if receipt is None:
            raise
        return receipt.response
    return answer


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
