"""Waking the worker when a message is recorded (PostgreSQL's LISTEN/NOTIFY).

The worker's loop processes the inbound journal every tenth of a second; that poll alone
is most of what an alert waits for. On PostgreSQL the webhook's sender lock statement
also says ``NOTIFY hotline_journal`` (delivered when its transaction commits), and each
worker runs :func:`start_listener`: a thread that waits on that channel and, at each
notification, processes the journal and hands the new work (the alert) to the queue at
once. The poll stays as the safety net (SQLite, a withheld number, a listener that lost
its connection). Processing twice at once is safe: entries are taken under the sender's
lock (or the entry's own) and re-checked.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from hotline.conversations.sms import JOURNAL_CHANNEL

log = logging.getLogger(__name__)

#: Seconds a listener waits for a notification before checking it should stop.
WAIT_SECONDS = 1.0
#: Seconds before connecting again after the database went away (doubling, up to a max).
RETRY_SECONDS, MAX_RETRY_SECONDS = 1.0, 30.0


def start_listener(app: Flask, stop: threading.Event) -> threading.Thread | None:
    """Start the listening thread (PostgreSQL only; None elsewhere)."""
    with app.app_context():
        from models import db

        url = db.engine.url
    if url.get_backend_name() != "postgresql":
        return None
    thread = threading.Thread(
        target=_listen, args=(app, url, stop), name="journal-listener", daemon=True
    )
    thread.start()
    return thread


def _listen(app: Flask, url, stop: threading.Event) -> None:
    import psycopg

    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    retry = RETRY_SECONDS
    while not stop.is_set():
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"LISTEN {JOURNAL_CHANNEL}")
                retry = RETRY_SECONDS
                log.info("journal listener: waiting for notifications")
                process(app)  # whatever was recorded before this listener was there
                while not stop.is_set():
                    woken = False
                    for _note in conn.notifies(timeout=WAIT_SECONDS, stop_after=1):
                        woken = True
                    if woken:
                        # Several messages may have come at once: one run takes them all.
                        for _note in conn.notifies(timeout=0):
                            pass
                        process(app)
        except Exception as exc:
            if stop.is_set():
                return
            log.warning(
                "journal listener: %s; listening again in %.0f s", type(exc).__name__, retry
            )
            stop.wait(retry)
            retry = min(retry * 2, MAX_RETRY_SECONDS)


def process(app: Flask) -> int:
    """Process the journal and relay the work it made; how many entries (never raises)."""
    from hotline.conversations.journal import process_journal
    from hotline.jobs.relay import relay
    from models import db

    started = time.monotonic()
    with app.app_context():
        try:
            done = process_journal()
            if done:
                relay()
        except Exception as exc:
            db.session.rollback()
            log.warning("journal listener: processing failed (%s)", type(exc).__name__)
            return 0
        finally:
            db.session.remove()
    if done:
        log.debug("journal listener: %d in %.0f ms", done, (time.monotonic() - started) * 1000)
    return done
