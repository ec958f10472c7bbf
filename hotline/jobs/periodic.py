"""Periodic work, run by the workers themselves: no cron, no second scheduler process.

Each worker's loop calls :func:`tick` between jobs (a few times a second while idle).
Across workers, a Redis key per task (``SET NX PX interval``) lets exactly one worker run
a task per interval. *Inline* tasks are short and run in the worker's own process (the
outbox relay must, to hand an alert to the provider within a second); the others are
enqueued as ordinary RQ jobs so a long one never holds up the queues.

Other modules add their work to :data:`PERIODIC`; a dotted path that does not exist
(yet) is skipped, so the registry can name work another part of the service provides.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from hotline.jobs import job
from hotline.queue import get_queue, redis_connection
from models import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    interval: float  # seconds
    path: str  # dotted path of a function taking no arguments
    inline: bool = True


#: The registry. Intervals are upper bounds on lateness, not exact times.
PERIODIC: list[Periodic] = [
    Periodic("relay", 0.1, "hotline.relay.relay"),
    Periodic("reconcile", 2, "hotline.relay.reconcile"),
    Periodic("escalations", 2, "hotline.alerts.check_escalations"),
    Periodic("follow_ups", 15, "hotline.followups.tick"),
    Periodic("outcome_reminders", 60, "hotline.jobs.reminders.check_outcome_reminders"),
    Periodic("commune_notifications", 15, "hotline.alerts.queue_commune_notifications"),
    # Provided by the telephony and data-protection work when present.
    Periodic("telephony_spool", 30, "hotline.telephony.spool.replay_spool", inline=False),
    Periodic(
        "webhook_receipts", 3600, "hotline.telephony.receipts.purge_expired_receipts", inline=False
    ),
    Periodic("retention", 24 * 3600, "hotline.privacy.retention.purge_expired", inline=False),
    # Statistics (issue 7): recompute the rollups of changed days.
    Periodic("stats_refresh", 300, "hotline.stats.rollup.refresh_dirty", inline=False),
    Periodic("report_push", 3600, "hotline.reporting.schedule.run_scheduled_pushes", inline=False),
]

_resolved: dict[str, Callable[[], object] | None] = {}
_last_redis_warning = 0.0


def resolve(path: str) -> Callable[[], object] | None:
    """The function at ``path``, or None when it does not exist (cached)."""
    if path not in _resolved:
        module_name, _, attr = path.rpartition(".")
        try:
            _resolved[path] = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError):
            log.info("periodic task %s is not available; skipped", path)
            _resolved[path] = None
    return _resolved[path]


@job
def run_task(path: str) -> None:
    """Run a non-inline periodic task as an RQ job."""
    fn = resolve(path)
    if fn is not None:
        fn()


_local_last: dict[str, float] = {}


def _due(task: Periodic) -> bool:
    """Whether this worker runs ``task`` now: one worker per interval through Redis, or,
    while Redis is down, this process's own clock (the tasks are safe to run twice)."""
    try:
        conn = redis_connection()
        return bool(
            conn.set(
                f"hotline:periodic:{task.name}",
                "1",
                nx=True,
                px=max(1, int(task.interval * 1000)),
            )
        )
    except (RedisConnectionError, RedisTimeoutError):
        now = time.monotonic()
        if now - _local_last.get(task.name, 0.0) < task.interval:
            return False
        _local_last[task.name] = now
        return True


#: A task failing on every tick (the database is down: the relay runs ten times a
#: second) is logged with its traceback once, then once a minute with a count.
FAILURE_LOG_INTERVAL = 60.0
_failures: dict[str, tuple[float, int]] = {}


def _log_failure(name: str) -> None:
    """Log a periodic task's failure (inside ``except``), at most once a minute."""
    now = time.monotonic()
    last, suppressed = _failures.get(name, (0.0, 0))
    if last and now - last < FAILURE_LOG_INTERVAL:
        _failures[name] = (last, suppressed + 1)
        return
    _failures[name] = (now, 0)
    if suppressed:
        log.exception("periodic task %s failed (%d more failures not logged)", name, suppressed)
    else:
        log.exception("periodic task %s failed", name)


def _recovered(name: str) -> None:
    if _failures.pop(name, None) is not None:
        log.info("periodic task %s runs again", name)


def tick(*, burst: bool = False) -> int:
    """Run whatever periodic work is due. Never raises: a failing task is logged (type
    only) and retried at its next interval; Redis being down just postpones everything.

    In ``burst`` mode (tests, one-off runs) every inline task runs now, and the others
    are left for a long-running worker. Returns how much the inline tasks did (the sum
    of the counts they return), so a burst worker knows when nothing is left.
    """
    global _last_redis_warning
    done = 0
    for task in PERIODIC:
        if burst and not task.inline:
            continue
        fn = resolve(task.path)
        if fn is None:
            continue
        try:
            if not burst and not _due(task):
                continue
            if task.inline:
                result = fn()
                done += result if isinstance(result, int) else 0
            else:
                get_queue("default").enqueue_call(
                    run_task,
                    kwargs={"path": task.path},
                    job_id=f"periodic-{task.name}-{int(time.time() // max(task.interval, 1))}",
                    timeout=3600,
                    result_ttl=3600,
                )
            _recovered(task.name)
        except (RedisConnectionError, RedisTimeoutError):
            db.session.rollback()
            now = time.monotonic()
            if now - _last_redis_warning > 30:
                log.warning("periodic task %s waits: Redis is not answering", task.name)
                _last_redis_warning = now
        except Exception:
            db.session.rollback()
            _log_failure(task.name)
        finally:
            db.session.remove()
    return done
