"""``worker``: the RQ worker with RQ's own scheduler, serving every queue of the app.

It also runs the periodic work (outbox relay, escalations, follow-ups, reminders) in
its own loop; see :mod:`hotline.jobs.worker` and :mod:`hotline.jobs.periodic`.
"""

import contextlib
import logging
import threading
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from hotline.conversations.wake import start_listener
from hotline.jobs.queue import QUEUES, redis_connection
from hotline.jobs.worker import REDIS_DOWN, HotlineWorker

log = logging.getLogger(__name__)


@click.command("worker")
@click.option(
    "--burst", is_flag=True, help="Stop when the queues are empty (tests, one-off runs)."
)
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run an RQ worker (with scheduler) on the queues: alerts, default, reports."""
    conn = redis_connection(current_app)
    stop = threading.Event()
    if not burst:
        # PostgreSQL: a recorded message wakes this worker at once (the poll stays).
        start_listener(current_app._get_current_object(), stop)  # type: ignore[attr-defined]
    try:
        _work(conn, burst)
    finally:
        stop.set()


def _work(conn, burst: bool) -> None:
    while True:
        worker = None
        with contextlib.suppress(*REDIS_DOWN):  # starting, or RQ's teardown, without Redis
            worker = HotlineWorker(list(QUEUES), connection=conn, log_job_description=False)
            worker.work(burst=burst, with_scheduler=True)
        if burst or (worker is not None and worker._stop_requested):
            return
        # RQ gives up when Redis vanishes in the middle of its bookkeeping; an alert
        # service must not: wait, then start a fresh worker in this same process.
        log.warning("worker lost Redis; starting again in 2 s")
        time.sleep(2)
