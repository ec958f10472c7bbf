"""When pushes happen by themselves (a worker's periodic loop calls
:func:`run_scheduled_pushes`; see hotline/jobs/periodic.py).

The plan asks for a 6-monthly report *before 10 June* and an annual one *before
10 December* — before those periods end. So each is pushed twice, under the same period
code (a re-push replaces):

* on the 1st of every month: the month before;
* from 1 June (until the 9th): ``YYYY-S1`` *provisional* (data to date, in time for
  10 June); from 1 July: ``YYYY-S1`` *final*;
* from 1 December (until the 9th): ``YYYY`` *provisional*; from 1 January: the year
  before *final*, and its ``S2``.

Each slot is pushed once: the push log records the slot in ``trigger``. A push that
fails is retried by its own backoff, not by the schedule.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select

from hotline.jobs import registry
from hotline.stats.periods import Period, half, local_day, previous_month, year
from hotline.stats.report import PROVINCE
from models import ReportPush, db
from models.types import utcnow

log = logging.getLogger(__name__)

MONTHLY = "sched-month"
PROVISIONAL = "sched-prov"
FINAL = "sched-final"
#: Provisional pushes are useful only before the deadline (the 10th).
DEADLINE_DAY = 10


@dataclass(frozen=True)
class Due:
    period: Period
    slot: str


def slots_for(today: date) -> list[Due]:
    """Every scheduled push that belongs to ``today``'s month (pushed once each)."""
    out = [Due(previous_month(today), MONTHLY)]
    if today.month == 6 and today.day < DEADLINE_DAY:
        out.append(Due(half(today.year, 1), PROVISIONAL))
    if today.month == 7:
        out.append(Due(half(today.year, 1), FINAL))
    if today.month == 12 and today.day < DEADLINE_DAY:
        out.append(Due(year(today.year), PROVISIONAL))
    if today.month == 1:
        out.append(Due(half(today.year - 1, 2), FINAL))
        out.append(Due(year(today.year - 1), FINAL))
    return out


def due_pushes(now: datetime | None = None) -> list[Due]:
    """Scheduled pushes not yet made (whatever their delivery status)."""
    today = local_day(now or utcnow(), current_app.config["HOTLINE_TIMEZONE"])
    out = []
    for due in slots_for(today):
        done = db.session.scalar(
            select(ReportPush.id).where(
                ReportPush.period == due.period.code,
                ReportPush.area == PROVINCE,
                ReportPush.trigger == due.slot,
            )
        )
        if done is None:
            out.append(due)
    return out


def run_scheduled_pushes(now: datetime | None = None) -> list[ReportPush]:
    """Push whatever is due now (nothing when pushing is not configured)."""
    from hotline.reporting.push import push_report

    if not current_app.config.get("REPORTING_URL") or not current_app.config.get(
        "REPORTING_SECRET"
    ):
        return []
    rows = []
    for due in due_pushes(now):
        try:
            row = push_report(due.period, PROVINCE, trigger=due.slot)
        except Exception:
            db.session.rollback()
            log.exception("scheduled report push for %s failed to build", due.period.code)
            continue
        if row.trigger != due.slot:
            # The same numbers were already delivered by another push: record the slot.
            db.session.add(
                ReportPush(
                    period=row.period,
                    area=row.area,
                    format=row.format,
                    idempotency_key=row.idempotency_key,
                    status="delivered" if row.status == "delivered" else "superseded",
                    trigger=due.slot,
                    attempts=0,
                    pushed_at=row.pushed_at,
                )
            )
            db.session.commit()
        rows.append(row)
    return rows


registry.add("reporting.scheduled_pushes", run_scheduled_pushes)
