"""The hotline's RQ worker: RQ's own worker and scheduler, plus the periodic work.

One process per worker, as ``rq worker --with-scheduler`` would be, with three changes:

- while idle it waits for jobs in short slices and runs :func:`hotline.jobs.periodic.tick`
  between them, so the outbox relay hands a new alert to RQ within a fraction of a second
  and escalations are checked every few seconds, without cron or a second process;
- a worker killed outright (SIGKILL, power loss) has its job retried within about half a
  minute instead of RQ's default minutes (shorter heartbeats and maintenance interval);
- Redis going away makes it wait and reconnect rather than exit;
- jobs run in the worker's own process (RQ's ``SimpleWorker``), not in a process forked
  for each job: a fork and RQ's bookkeeping around it cost about a quarter of a second
  per job, most of an alert's way out. Jobs are short, idempotent and run in their own
  app context and session; a job that dies with its worker is retried like any other.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import time

import redis
from rq import SimpleWorker
from rq.exceptions import DequeueTimeout
from rq.job import Job
from rq.queue import Queue
from rq.worker import WorkerStatus

from hotline.jobs import periodic, registry

#: Seconds the worker blocks waiting for a job before running the periodic work again.
POLL_SECONDS = 0.1
#: Seconds between the worker's heartbeats to Redis while idle.
HEARTBEAT_SECONDS = 5
JOB_MONITORING_INTERVAL = 5
MAINTENANCE_INTERVAL = 15
#: A started job whose worker sent no heartbeat for this long is treated as abandoned.
HEARTBEAT_GRACE = 10
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


#: Imported once when the worker starts, not by its first job (importing the Twilio
#: client costs a few hundred milliseconds).
PRELOAD = ("hotline.telephony.twilio.rest",)


def preload() -> None:
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


class HotlineWorker(SimpleWorker):
    max_connection_wait_time = 5.0

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("job_monitoring_interval", JOB_MONITORING_INTERVAL)
        kwargs.setdefault("maintenance_interval", MAINTENANCE_INTERVAL)
        # Runs jobs by registered name, and old dotted paths still queued for a release.
        kwargs.setdefault("job_class", registry.RegistryJob)
        periodic.check()  # a schedule naming an unknown job stops the worker here
        super().__init__(*args, **kwargs)
        preload()

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        if job.timeout and job.timeout > 0:
            remaining = job.timeout - working_time
            return int(min(remaining, self.job_monitoring_interval)) + HEARTBEAT_GRACE
        return self.job_monitoring_interval + HEARTBEAT_GRACE

    def _shutdown(self) -> None:
        """Stop at the next slice of the loop rather than raising wherever the signal
        lands (it could land inside the periodic work, between an enqueue and a commit)."""
        if self.get_state() == WorkerStatus.BUSY:
            super()._shutdown()
            return
        self._stop_requested = True
        if self.scheduler:
            self.stop_scheduler()

    def check_for_suspension(self, burst: bool) -> None:
        with contextlib.suppress(*REDIS_DOWN):  # the dequeue loop waits for Redis
            super().check_for_suspension(burst)

    def run_maintenance_tasks(self) -> None:
        with contextlib.suppress(*REDIS_DOWN):
            super().run_maintenance_tasks()

    def set_state(self, state: str, pipeline=None) -> None:
        try:
            super().set_state(state, pipeline)
        except REDIS_DOWN:
            if pipeline is not None:
                raise

    def heartbeat(self, timeout=None, pipeline=None) -> None:
        try:
            super().heartbeat(timeout, pipeline)
        except REDIS_DOWN:
            if pipeline is not None:
                raise

    def dequeue_job_and_maintain_ttl(
        self, timeout: int | None, max_idle_time: int | None = None
    ) -> tuple[Job, Queue] | None:
        """RQ's dequeue loop, waiting in short slices with the periodic work between."""
        burst = timeout is None
        qnames = ",".join(self.queue_names())
        self.set_state(WorkerStatus.IDLE)
        self.procline("Listening on " + qnames)
        idle_since = time.monotonic()
        last_heartbeat = 0.0
        connection_wait = 1.0
        while True:
            if self._stop_requested:
                return None
            progressed = periodic.tick(burst=burst)
            try:
                if time.monotonic() - last_heartbeat > HEARTBEAT_SECONDS:
                    self.heartbeat()
                    last_heartbeat = time.monotonic()
                if self.should_run_maintenance_tasks:
                    self.run_maintenance_tasks()
                result = self.queue_class.dequeue_any(
                    self._ordered_queues,
                    None if burst else POLL_SECONDS,
                    connection=self.connection,
                    job_class=self.job_class,
                    serializer=self.serializer,
                    death_penalty_class=self.death_penalty_class,
                )
                connection_wait = 1.0
                if result is None:  # burst: nothing queued
                    if progressed:
                        continue  # the periodic work just made some: look again
                    return None
                job, queue = result
                self.reorder_queues(reference_queue=queue)
                job.redis_server_version = self.get_redis_server_version()
                self.log.info("Worker %s: %s: %s", self.name, queue.name, job.id)
                self.heartbeat()
                return result
            except DequeueTimeout:
                if self._stop_requested:
                    return None
                idle = math.ceil(time.monotonic() - idle_since)
                if max_idle_time is not None and idle >= max_idle_time:
                    return None
            except REDIS_DOWN:
                if self._stop_requested:
                    return None
                self.log.warning(
                    "Worker %s: Redis is not answering; retrying in %.0f s",
                    self.name,
                    connection_wait,
                )
                time.sleep(connection_wait)
                connection_wait = min(connection_wait * 2, self.max_connection_wait_time)
