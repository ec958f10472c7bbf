"""Logging that cannot leak personal data.

Log calls in this codebase pass ids and codes, never numbers, names, bodies or notes.
Exceptions are the remaining risk: their messages can carry request values (a database
error quotes its parameters). The formatter therefore prints an exception's type and
stack frames but never its message.
"""

from __future__ import annotations

import logging
import sys
import traceback

from flask import Flask

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class SafeFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        # Another handler may have cached the full exception text on the record.
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatException(self, ei) -> str:
        exc_type, _exc, tb = ei
        frames = "".join(traceback.format_tb(tb))
        name = exc_type.__qualname__ if exc_type else "Exception"
        return f"Traceback (most recent call last):\n{frames}{name} (message withheld)"


def configure_logging(level: int = logging.INFO) -> None:
    """Send every logger to stderr through :class:`SafeFormatter` (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_hotline", False):
            return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter(FORMAT))
    handler._hotline = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)


def init_logging(app: Flask) -> None:
    configure_logging()
    # Flask's default handler would format exceptions with their messages.
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)
