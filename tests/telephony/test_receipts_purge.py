"""Old webhook receipts are dropped by the hourly periodic task; recent ones stay."""

from __future__ import annotations

from datetime import timedelta

from hotline.jobs import registry
from hotline.jobs.periodic import PERIODIC
from hotline.telephony.receipts import purge_expired_receipts
from models import WebhookReceipt, db
from models.types import utcnow


def receipt(key: str, age: timedelta) -> WebhookReceipt:
    return WebhookReceipt(
        provider="twilio",
        key=key,
        status_code=200,
        content_type="text/xml",
        response="<Response/>",
        created_at=utcnow() - age,
    )


def test_receipts_older_than_a_week_are_purged_and_recent_ones_kept(ctx):
    db.session.add_all([receipt("old", timedelta(days=8)), receipt("new", timedelta(hours=1))])
    db.session.commit()
    assert purge_expired_receipts() == 1
    db.session.remove()
    assert db.session.scalars(db.select(WebhookReceipt.key)).all() == ["new"]


def test_the_purge_is_scheduled_in_the_workers(app):
    scheduled = {task.job for task in PERIODIC}
    assert "telephony.purge_receipts" in scheduled
    assert registry.get("telephony.purge_receipts").fn is purge_expired_receipts
