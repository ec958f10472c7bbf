"""The job registry: every piece of background work under a stable name.

The outbox stores a job's name (``"alerts.send"``), the periodic schedule lists names, and
RQ runs every job through :func:`run` with the name as its first argument — never a
dotted import path, so moving a module never breaks queued work. A job's queue and retry
policy live on its entry. Looking up a name nobody registered raises :class:`UnknownJob`.

Feature packages register their jobs where they are written (``@register("alerts.send",
queue="alerts", retry=SMS)``); the app factory imports those modules, so every process
that builds the app knows every job.

Before names, the outbox and RQ held dotted paths. :data:`LEGACY_NAMES` maps them for one
release: migration 0008 rewrites stored outbox rows, and :class:`RegistryJob` (the
worker's job class) runs an RQ job still queued under an old path.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from flask import current_app
from rq import Retry
from rq.job import Job

from hotline.jobs.context import job, job_app, run_in_context

log = logging.getLogger(__name__)

RetryKind = Literal["sms", "default", "none"]
#: Retry kinds: an SMS send follows ``SMS_RETRY_INTERVALS``; other work backs off.
SMS: RetryKind = "sms"
DEFAULT: RetryKind = "default"
NONE: RetryKind = "none"
DEFAULT_RETRY_INTERVALS = (10, 60, 300, 900, 3600)


class UnknownJob(LookupError):
    """No job is registered under this name."""


@dataclass(frozen=True)
class JobSpec:
    name: str
    fn: Callable[..., Any]  # the function itself; callers supply the app context
    queue: str = "default"
    retry: RetryKind = DEFAULT


_JOBS: dict[str, JobSpec] = {}

#: Dotted paths stored before the registry, and the names that replaced them. Remove in
#: the release after the one that ships migration 0008.
LEGACY_NAMES: dict[str, str] = {
    "hotline.jobs.alerts.send_alert": "alerts.send",
    "hotline.jobs.alerts.notify_callback_request": "alerts.notify_callback",
    "hotline.jobs.alerts.notify_commune_committee": "alerts.notify_committee",
    "hotline.jobs.alerts.notify_escalation_exhausted": "alerts.notify_exhausted",
    "hotline.jobs.followups.send_follow_up": "followups.send",
    "hotline.jobs.reminders.send_outcome_reminder": "referrals.send_reminder",
    "hotline.telephony.jobs.place_question_timeout": "conversations.place_timeout",
    "hotline.reporting.push.retry_push": "reporting.retry_push",
    "hotline.jobs.system.heartbeat": "system.heartbeat",
    # Periodic tasks, as ``hotline.jobs.periodic.run_task(path=…)`` held them.
    "hotline.relay.relay": "jobs.relay",
    "hotline.relay.reconcile": "jobs.reconcile",
    "hotline.alerts.check_escalations": "alerts.escalate_due",
    "hotline.followups.tick": "followups.tick",
    "hotline.jobs.reminders.check_outcome_reminders": "referrals.check_reminders",
    "hotline.alerts.queue_commune_notifications": "alerts.queue_committee_notices",
    "hotline.telephony.spool.replay_spool": "telephony.replay_spool",
    "hotline.telephony.receipts.purge_expired_receipts": "telephony.purge_receipts",
    "hotline.privacy.retention.purge_expired": "retention.purge",
    "hotline.stats.rollup.refresh_dirty": "stats.refresh",
    "hotline.reporting.schedule.run_scheduled_pushes": "reporting.scheduled_pushes",
}
_LEGACY_PERIODIC_RUNNER = "hotline.jobs.periodic.run_task"


def add(
    name: str, fn: Callable[..., Any], *, queue: str = "default", retry: RetryKind = DEFAULT
) -> JobSpec:
    """Register ``fn`` under ``name``; registering another function under a taken name
    is a bug and raises."""
    from hotline.jobs.queue import QUEUES

    if queue not in QUEUES:
        raise ValueError(f"job {name!r}: unknown queue {queue!r}")
    current = _JOBS.get(name)
    if current is not None and current.fn is not fn:
        raise ValueError(f"job name {name!r} is already taken by {current.fn.__qualname__}")
    spec = JobSpec(name, fn, queue, retry)
    _JOBS[name] = spec
    return spec


def register(
    name: str, *, queue: str = "default", retry: RetryKind = DEFAULT
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register the function as job ``name``; calling it directly runs it in
    the jobs' app context (as RQ would)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        add(name, fn, queue=queue, retry=retry)
        return job(fn)

    return decorate


def canonical(name: str) -> str:
    return LEGACY_NAMES.get(name, name)


def get(name: str) -> JobSpec:
    """The entry for ``name`` (or for the old dotted path it replaced)."""
    spec = _JOBS.get(canonical(name))
    if spec is None:
        raise UnknownJob(f"no job is registered as {name!r}")
    return spec


def names() -> list[str]:
    return sorted(_JOBS)


def retry_policy(name: str) -> Retry | None:
    """RQ's retry policy for the job, from its entry."""
    spec = get(name)
    if spec.retry == NONE:
        return None
    intervals = (
        list(current_app.config["SMS_RETRY_INTERVALS"])
        if spec.retry == SMS
        else list(DEFAULT_RETRY_INTERVALS)
    )
    return Retry(max=len(intervals), interval=intervals)


def run(job_name: str, /, **kwargs: Any) -> Any:
    """What RQ runs: the registered job ``job_name`` with its payload, in the app context.

    An unknown name fails the RQ job loudly (UnknownJob), never silently."""

    job_app()  # builds the app when RQ runs this outside one: that registers every job
    spec = get(job_name)
    return run_in_context(spec.name, spec.fn, **kwargs)


class RegistryJob(Job):
    """RQ's job, also able to run a job queued under a pre-registry dotted path."""

    @property
    def func(self):  # type: ignore[override]
        func_name = self.func_name
        if func_name == _LEGACY_PERIODIC_RUNNER:
            return _legacy_periodic
        if func_name in LEGACY_NAMES:
            log.info("running legacy job path as %s", LEGACY_NAMES[func_name])
            return functools.partial(run, LEGACY_NAMES[func_name])
        return super().func


def _legacy_periodic(path: str) -> Any:
    return run(path)


def enqueue(name: str, /, *, queue: str | None = None, **payload: Any) -> Job:
    """Put job ``name`` on RQ now (bypassing the outbox: tools and tests; the service
    itself adds work with :func:`hotline.jobs.outbox.add_work`)."""
    from hotline.jobs.queue import get_queue

    spec = get(name)
    return get_queue(queue or spec.queue).enqueue_call(
        run, args=(spec.name,), kwargs=payload, retry=retry_policy(spec.name)
    )
