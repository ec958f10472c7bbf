"""The commune People's Committee notice for domestic-violence reports (Law 13/2022/QH15)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select

from hotline.audit import record_event
from hotline.directory.lookup import commune_committee
from hotline.jobs import registry
from hotline.jobs.outbox import add_work
from models import (
    Case,
    CaseCode,
    db,
)
from models.types import utcnow

log = logging.getLogger(__name__)


NOTIFY_COMMITTEE_JOB = "alerts.notify_committee"


# --- commune People's Committee notification (Law 13/2022/QH15) ------------------------


def queue_commune_notifications(now: datetime | None = None, limit: int = 100) -> int:
    """Queue the legally required notice for new domestic-violence cases (once each)."""
    if not current_app.config.get("COMMUNE_NOTIFICATION", True):
        return 0
    now = now or utcnow()
    is_dv = exists().where(
        CaseCode.case_id == Case.id,
        CaseCode.dimension == "context",
        CaseCode.code == "domestic_violence",
    )
    cases = list(
        db.session.scalars(
            select(Case)
            .where(
                Case.commune_notified_at.is_(None),
                Case.created_at >= now - timedelta(days=7),
                Case.commune_code.is_not(None),
                is_dv,
            )
            .order_by(Case.id)
            .limit(limit)
        )
    )
    for case in cases:
        case.commune_notified_at = now
        committee = commune_committee(case.commune_code)
        if committee is None or not committee.alert_phone:
            record_event(
                "system",
                "case.commune_committee_missing",
                "case",
                case.reference,
                {"commune": case.commune_code},
            )
            continue
        add_work(
            NOTIFY_COMMITTEE_JOB,
            {"case_id": case.id},
            queue="alerts",
            dedupe_key=f"committee:{case.id}",
        )
    db.session.commit()
    return len(cases)


registry.add("alerts.queue_committee_notices", queue_commune_notifications)
