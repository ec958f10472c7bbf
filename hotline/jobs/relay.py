"""The outbox relay: moves due outbox rows to RQ, and keeps their status true to RQ's.

Runs inside every worker process (``hotline.jobs.periodic``), several times a second.
A Redis lock lets one worker relay at a time; the RQ job id ``outbox-<id>`` and a check
of that id before enqueueing make a second relay of the same row harmless. A row is
marked ``enqueued`` only after RQ has it; when Redis is down rows simply wait.

Reconciliation (every few seconds) marks rows ``done`` / ``failed`` from their RQ job,
and puts a row back to ``pending`` when its job vanished from Redis (a Redis restart
without persistence): jobs are idempotent, so running one again is safe.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from redis.exceptions import LockError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select

from hotline.audit import record_event
from hotline.jobs import registry
from hotline.jobs.queue import redis_connection
from models import OutboxItem, db
from models.types import utcnow

log = logging.getLogger(__name__)

BATCH = 200
LOCK_KEY = "hotline:lock:relay"
LOCK_SECONDS = 30
#: Finished jobs are kept this long so reconciliation can see them.
RESULT_TTL = 24 * 3600
JOB_TIMEOUT = 120
#: A row whose job is missing from Redis this long after enqueueing is relayed again.
MISSING_GRACE = timedelta(seconds=30)


def job_id(item: OutboxItem | int) -> str:
    return f"outbox-{item if isinstance(item, int) else item.id}"


def relay(limit: int = BATCH) -> int:
    """Enqueue due pending rows; return how many went to RQ. Raises on Redis errors."""
    conn = redis_connection()
    lock = conn.lock(LOCK_KEY, timeout=LOCK_SECONDS, blocking=False)
    if not lock.acquire():
        return 0
    try:
        return _relay_due(conn, limit)
    finally:
        with contextlib.suppress(LockError):  # expired meanwhile: nothing to release
            lock.release()


def _relay_due(conn, limit: int) -> int:
    now = utcnow()
    items = list(
        db.session.scalars(
            select(OutboxItem)
            .where(OutboxItem.status == "pending", OutboxItem.available_at <= now)
            .order_by(OutboxItem.available_at, OutboxItem.id)
            .limit(limit)
        )
    )
    if not items:
        db.session.rollback()
        return 0
    existing = Job.fetch_many([job_id(i) for i in items], connection=conn)
    moved = 0
    for item, found in zip(items, existing, strict=True):
        status = found.get_status(refresh=False) if found is not None else None
        if status in (
            JobStatus.QUEUED,
            JobStatus.STARTED,
            JobStatus.SCHEDULED,
            JobStatus.DEFERRED,
            JobStatus.FINISHED,
        ):
            # RQ already has it (an earlier relay enqueued it, then failed to commit).
            pass
        else:
            if found is not None:
                found.delete()
            name = registry.canonical(item.job)
            try:
                registry.get(name)
            except registry.UnknownJob:
                # Loud, and it must not hold up the rows behind it.
                _fail_unknown(item)
                continue
            Queue(item.queue, connection=conn).enqueue_call(
                registry.run,
                args=(name,),
                kwargs=dict(item.payload or {}),
                job_id=job_id(item),
                retry=registry.retry_policy(name),
                result_ttl=RESULT_TTL,
                timeout=JOB_TIMEOUT,
                description=f"{name} outbox-{item.id}",
            )
            moved += 1
        item.status = "enqueued"
        item.attempts += 1
        item.enqueued_at = utcnow()
        item.rq_job_id = job_id(item)
        # Commit row by row: a row RQ has is never left looking pending for long.
        db.session.commit()
    return moved


def _fail_unknown(item: OutboxItem) -> None:
    item.status, item.finished_at, item.last_error = "failed", utcnow(), "UnknownJob"
    record_event("system", "outbox.failed", "outbox_item", item.id, {"job": item.job})
    log.error("outbox %s: no job is registered as %r", item.id, item.job)
    db.session.commit()


def reconcile(limit: int = 500) -> int:
    """Bring enqueued rows up to date with their RQ jobs; return how many changed."""
    conn = redis_connection()
    items = list(
        db.session.scalars(
            select(OutboxItem)
            .where(OutboxItem.status == "enqueued")
            .order_by(OutboxItem.enqueued_at, OutboxItem.id)
            .limit(limit)
        )
    )
    if not items:
        db.session.rollback()
        return 0
    jobs = Job.fetch_many([job_id(i) for i in items], connection=conn)
    now = utcnow()
    changed = 0
    for item, job in zip(items, jobs, strict=True):
        status = job.get_status(refresh=False) if job is not None else None
        if status == JobStatus.FINISHED:
            item.status, item.finished_at, item.last_error = "done", now, None
        elif status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
            item.status, item.finished_at = "failed", now
            item.last_error = _error_type(job)
            record_event(
                "system",
                "outbox.failed",
                "outbox_item",
                item.id,
                {"job": item.job, "error": item.last_error},
            )
            log.error("outbox %s: job %s failed (%s)", item.id, item.job, item.last_error)
        elif job is None and item.enqueued_at and now - item.enqueued_at > MISSING_GRACE:
            # Redis lost it (restart without persistence): relay it again.
            item.status = "pending"
            log.warning("outbox %s: job missing from Redis, relaying again", item.id)
        else:
            continue
        changed += 1
    db.session.commit()
    return changed


def _error_type(job: Job | None) -> str:
    """The exception's type name only: messages can quote personal data."""
    if job is None:
        return "unknown"
    try:
        text = job.latest_result().exc_string if job.latest_result() else ""
    except (NoSuchJobError, AttributeError):
        text = ""
    last = (text or "").strip().splitlines()[-1:] or ["unknown"]
    return last[0].split(":", 1)[0][:100]


registry.add("jobs.relay", relay)
registry.add("jobs.reconcile", reconcile)
