"""The application context background jobs run in.

Jobs take ids, never personal data, and run inside an application context built once per
worker process (a forked job process gets fresh database connections, never its parent's).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import Flask, current_app, has_app_context

from models import db

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

_app: Flask | None = None
_pid: int | None = None


def job_app() -> Flask:
    """The application jobs run in: the worker's own when present, else built once here."""
    global _app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _app is None:
        from hotline import create_app

        _app = create_app()
    return _app


class JobFailed(Exception):
    """A job failed; the message names the job and the error type only."""


def run_in_context(label: str, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Run ``fn`` in the jobs' app context with its own connections and session.

    RQ stores a failure's text in Redis, and an exception's message can quote personal
    values (a database error quotes its parameters): the frames are logged (never the
    message) and RQ gets only ``label`` and the exception's type. Retries still apply.
    """
    global _pid
    app = job_app()
    with app.app_context():
        if _pid != os.getpid():
            # Connections inherited through fork() belong to the parent: drop them.
            db.engine.dispose(close=False)
            _pid = os.getpid()
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            db.session.rollback()
            if isinstance(exc, JobFailed):
                raise
            log.error("job %s failed", label, exc_info=exc)
            raise JobFailed(f"{label}: {type(exc).__name__}") from None
        finally:
            db.session.remove()


def job(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` run through :func:`run_in_context` (for direct calls of a job)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return run_in_context(fn.__qualname__, fn, *args, **kwargs)

    return wrapper
