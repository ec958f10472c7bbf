"""Domain exceptions and the one place that turns errors into responses."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


class HotlineError(Exception):
    """Base of the service's own errors; the message is safe to show (no personal data)."""


class ValidationError(HotlineError):
    """Input that cannot be accepted; ``errors`` maps field (or line) to messages."""

    def __init__(self, errors: dict[str, list[str]] | list[str]) -> None:
        super().__init__("invalid input")
        self.errors = errors


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def http_error_response(exc: HTTPException):
    """The answer to an HTTP error: JSON for the API, else the site's error page."""
    if _wants_json():
        return jsonify(error=exc.name, status=exc.code), exc.code
    return render_template("error.html", code=exc.code, name=exc.name), exc.code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return http_error_response(exc)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        # Log the type and where, never the request's values (they may identify a caller).
        # The log formatter prints frames and the exception type, not its message.
        app.logger.error(
            "unhandled %s on %s %s",
            type(exc).__name__,
            request.method,
            request.path,
            exc_info=exc,
        )
        if _wants_json():
            return jsonify(error="Internal Server Error", status=500), 500
        return render_template("error.html", code=500, name="Internal Server Error"), 500
