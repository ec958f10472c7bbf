"""Periodic work, run by the workers themselves: no cron, no second scheduler process.

Each worker's loop calls :func:`tick` between jobs (a few times a second while idle).
Across workers, a Redis key per task (``SET NX PX interval``) lets exactly one worker run
a task per interval. *Inline* tasks are short and run in the worker's own process (the
outbox relay must, to hand an alert to the provider within a second); the others are
enqueued as ordinary RQ jobs so a long one never holds up the queues.

:data:`PERIODIC` is the whole schedule, by job name (:mod:`hotline.jobs.registry`); a
name nobody registered fails loudly (:func:`check`, run when a worker starts).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from hotline.jobs import registry
from hotline.jobs.queue import get_queue, redis_connection
from models import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    job: str  # a registered job name; the function takes no arguments
    interval: float  # seconds
    inline: bool = True
    #: Also run, whatever its interval, in a tick where an earlier task did something
    #: (the relay right after the journal made an alert: it reaches RQ at once).
    after_work: bool = False


#: The schedule. Intervals are upper bounds on lateness, not exact times.
PERIODIC: list[Periodic] = [
    # Journal-first intake: the rows of messages the webhooks recorded (docs/conversations.md).
    Periodic("conversations.process_journal", 0.1),
    Periodic("jobs.relay", 0.1, after_work=True),
    Periodic("jobs.reconcile", 2),
    Periodic("alerts.escalate_due", 2),
    Periodic("followups.tick", 15),
    Periodic("referrals.check_reminders", 60),
    Periodic("alerts.queue_committee_notices", 15),
    Periodic("voice.tidy", 30, inline=False),
    Periodic("telephony.replay_spool", 30, inline=False),
    Periodic("telephony.purge_receipts", 3600, inline=False),
    Periodic("conversations.purge_journal", 3600, inline=False),
    Periodic("retention.purge", 24 * 3600, inline=False),
    Periodic("stats.refresh", 300, inline=False),
    # After the refresh: the year patterns solved once, for every process (statistics.md).
    Periodic("stats.warm_patterns", 300, inline=False),
    Periodic("reporting.scheduled_pushes", 3600, inline=False),
    Periodic("cases.hash_safe_numbers", 3600, inline=False),
]

_last_redis_warning = 0.0


def check() -> None:
    """Raise :class:`~hotline.jobs.registry.UnknownJob` if the schedule names a job
    nobody registered (a typo or a removed module must stop the worker, not skip work)."""
    for task in PERIODIC:
        registry.get(task.job)


_local_last: dict[str, float] = {}


def _due(task: Periodic) -> bool:
    """Whether this worker runs ``task`` now: one worker per interval through Redis, or,
    while Redis is down, this process's own clock (the tasks are safe to run twice)."""
    try:
        conn = redis_connection()
        return bool(
            conn.set(
                f"hotline:periodic:{task.job}",
                "1",
                nx=True,
                px=max(1, int(task.interval * 1000)),
            )
        )
    except (RedisConnectionError, RedisTimeoutError):
        now = time.monotonic()
        if now - _local_last.get(task.job, 0.0) < task.interval:
            return False
        _local_last[task.job] = now
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
        try:
            spec = registry.get(task.job)
            if not burst and not (task.after_work and done) and not _due(task):
                continue
            if task.inline:
                result = spec.fn()
                done += result if isinstance(result, int) else 0
            else:
                bucket = int(time.time() // max(task.interval, 1))
                get_queue("default").enqueue_call(
                    registry.run,
                    args=(task.job,),
                    job_id=f"periodic-{task.job.replace('.', '_')}-{bucket}",  # RQ ids: no dots
                    timeout=3600,
                    result_ttl=3600,
                    description=f"periodic {task.job}",
                )
            _recovered(task.job)
        except (RedisConnectionError, RedisTimeoutError):
            db.session.rollback()
            now = time.monotonic()
            if now - _last_redis_warning > 30:
                log.warning("periodic task %s waits: Redis is not answering", task.job)
                _last_redis_warning = now
        except Exception:
            db.session.rollback()
            _log_failure(task.job)
        finally:
            db.session.remove()
    return done
