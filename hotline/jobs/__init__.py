"""Background jobs run by RQ workers.

Jobs take ids, never personal data, and run inside an application context built once per
worker process (a forked job process gets fresh database connections, never its parent's).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import Flask, current_app, has_app_context

from models import db

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


def job(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` in an app context with its own database connections and session."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        global _pid
        app = job_app()
        with app.app_context():
            if _pid != os.getpid():
                # Connections inherited through fork() belong to the parent: drop them.
                db.engine.dispose(close=False)
                _pid = os.getpid()
            try:
                return fn(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper
