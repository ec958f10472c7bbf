"""Pushing a period's anonymised report to the reporting system (DESIGN.md section 9).

* Signed: ``X-Hotline-Signature: sha256=<HMAC-SHA256 of the exact body>`` with
  ``REPORTING_SECRET``.
* Idempotent: ``Idempotency-Key: <period>-<area>-<content hash>``; the hash leaves out
  ``generated_at``, so the same numbers give the same key, and a key already delivered
  is not posted again. DHIS2 pushes use ``importStrategy=CREATE_AND_UPDATE``: a re-push
  replaces the period's values.
* Retried: a failed attempt is logged in ``report_push`` and a retry is queued through
  the outbox with growing delays (:data:`BACKOFF`) until the receiver answers 2xx.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from hotline.jobs import registry
from hotline.jobs.outbox import add_work
from hotline.reporting.payload import (
    FORMATS,
    body_bytes,
    carried_keys,
    content_hash,
    dhis2_payload,
    idempotency_key,
    json_payload,
    signature,
)
from hotline.stats.periods import Period, parse_period
from hotline.stats.published import record_pushed
from hotline.stats.report import PROVINCE, Report, build_report, year_solution
from models import ReportPush, db
from models.types import utcnow

log = logging.getLogger(__name__)

#: Seconds before each retry; the last one repeats.
BACKOFF = (60, 300, 900, 3600, 3 * 3600, 6 * 3600)
#: After this many attempts (about a week) the push is marked failed for a manager.
MAX_ATTEMPTS = 36
TIMEOUT_SECONDS = 20
RETRY_JOB = "reporting.retry_push"


class PushDisabled(RuntimeError):
    """REPORTING_URL or REPORTING_SECRET is not set."""


@dataclass
class Prepared:
    body: bytes
    key: str
    url: str
    content_type: str
    report: Report | None = None


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1])


def _mapping() -> dict | None:
    path = current_app.config.get("REPORTING_DHIS2_MAPPING")
    if not path:
        return None
    return json.loads(Path(path).read_text(encoding="utf-8"))


def prepare(period: Period, area: str, fmt: str) -> Prepared:
    """Build the body for ``period`` and ``area`` in ``fmt`` (``json`` or ``dhis2``)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown reporting format {fmt!r}")
    report = build_report(period, area)
    base = current_app.config.get("REPORTING_URL") or ""
    payload = json_payload(report, utcnow())
    digest = content_hash(payload)
    if fmt == "json":
        return Prepared(
            body_bytes(payload),
            idempotency_key(period.code, area, digest),
            base,
            "application/json",
            report,
        )
    dvs = dhis2_payload(report, _mapping())
    digest = content_hash(dvs)
    sep = "&" if "?" in base else "?"
    return Prepared(
        body_bytes(dvs),
        idempotency_key(period.code, area, digest),
        f"{base}{sep}importStrategy=CREATE_AND_UPDATE&idScheme=CODE",
        "application/json",
        report,
    )


def push_report(
    period: Period,
    area: str | None = None,
    fmt: str | None = None,
    *,
    trigger: str = "manual",
) -> ReportPush:
    """Build and post now; the returned log row says what happened (committed)."""
    config = current_app.config
    if not config.get("REPORTING_URL") or not config.get("REPORTING_SECRET"):
        raise PushDisabled("REPORTING_URL and REPORTING_SECRET must be set to push")
    area = area or PROVINCE
    fmt = fmt or config.get("REPORTING_FORMAT") or "json"
    prepared = prepare(period, area, fmt)
    same = db.session.scalars(
        select(ReportPush)
        .where(ReportPush.idempotency_key == prepared.key, ReportPush.format == fmt)
        .order_by(ReportPush.id.desc())
    ).first()
    if same is not None and same.status == "delivered":
        log.info("report push %s: already delivered, not posted again", same.id)
        return same
    # Newer numbers replace a push still waiting for the receiver.
    for old in db.session.scalars(
        select(ReportPush).where(
            ReportPush.period == period.code,
            ReportPush.area == area,
            ReportPush.format == fmt,
            ReportPush.status.in_(("pending", "retrying")),
            ReportPush.idempotency_key != prepared.key,
        )
    ):
        old.status = "superseded"
        old.next_attempt_at = None
    row = same or ReportPush(
        period=period.code,
        area=area,
        format=fmt,
        idempotency_key=prepared.key,
        status="pending",
        trigger=trigger,
        attempts=0,
    )
    db.session.add(row)
    db.session.flush()
    _attempt(row, prepared)
    record(period, prepared.report)
    db.session.commit()
    return row


def record(period: Period, report: Report | None) -> None:
    """Remember, cell by cell, what a push carried, so the joint suppression of the
    period's year holds it fixed (docs/statistics.md, "Suppression"). Done after every
    attempt, delivered or not: a receiver that timed out may still have stored the body."""
    if report is None:
        return
    truth = year_solution(period.start.year).values
    cells = {
        k: (truth[(period.code, k)], report.published[k])
        for k in carried_keys(report)
        if (period.code, k) in truth
    }
    record_pushed(period, cells)


def _attempt(row: ReportPush, prepared: Prepared) -> None:
    secret = current_app.config["REPORTING_SECRET"]
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting
        prepared.url,
        data=prepared.body,
        method="POST",
        headers={
            "Content-Type": prepared.content_type,
            "X-Hotline-Signature": signature(prepared.body, secret),
            "Idempotency-Key": prepared.key,
            "User-Agent": "hotline-18001769-reporting",
            **(
                {"Authorization": current_app.config["REPORTING_AUTHORIZATION"]}
                if current_app.config.get("REPORTING_AUTHORIZATION")
                else {}
            ),
        },
    )
    row.attempts += 1
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            row.http_status = response.status
        row.status = "delivered"
        row.error_code = None
        row.pushed_at = utcnow()
        row.next_attempt_at = None
        log.info("report push %s delivered (attempt %s)", row.id, row.attempts)
        return
    except urllib.error.HTTPError as exc:
        row.http_status = exc.code
        row.error_code = f"http_{exc.code}"
    except TimeoutError:
        row.http_status = None
        row.error_code = "timeout"
    except (urllib.error.URLError, OSError) as exc:
        row.http_status = None
        reason = getattr(exc, "reason", exc)
        row.error_code = "timeout" if isinstance(reason, TimeoutError) else "connection"
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        row.next_attempt_at = None
        log.warning("report push %s failed for good after %s attempts", row.id, row.attempts)
        return
    row.status = "retrying"
    row.next_attempt_at = utcnow() + backoff(row.attempts)
    add_work(
        RETRY_JOB,
        {"push_id": row.id},
        queue="reports",
        dedupe_key=f"report-push-{row.id}-{row.attempts}",
        available_at=row.next_attempt_at,
    )
    log.warning(
        "report push %s not delivered (%s); retry at %s",
        row.id,
        row.error_code,
        row.next_attempt_at.isoformat(),
    )


def retry_due(push_id: int) -> ReportPush | None:
    """One retry of a waiting push: rebuilt from current data, so it carries the newest
    numbers (same numbers → same key → posted once)."""
    row = db.session.get(ReportPush, push_id)
    if row is None or row.status != "retrying":
        return row
    return push_report(parse_period(row.period), row.area, row.format, trigger=row.trigger)


@registry.register(RETRY_JOB, queue="reports")
def retry_push(push_id: int, **_ignored) -> None:
    """RQ job (queued through the outbox): retry one push."""
    retry_due(push_id)
