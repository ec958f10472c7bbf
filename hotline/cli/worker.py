"""``worker``: the RQ worker with RQ's own scheduler, serving every queue of the app."""

import click
from flask import current_app
from flask.cli import with_appcontext
from rq import Worker

from hotline.queue import QUEUES, redis_connection


@click.command("worker")
@click.option(
    "--burst", is_flag=True, help="Stop when the queues are empty (tests, one-off runs)."
)
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run an RQ worker (with scheduler) on the queues: alerts, default, reports."""
    conn = redis_connection(current_app)
    worker = Worker(list(QUEUES), connection=conn, log_job_description=False)
    worker.work(burst=burst, with_scheduler=True)
