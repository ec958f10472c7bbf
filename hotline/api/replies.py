"""The JSON API's error answers, and the check for text no database can store."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from hotline.errors import ValidationError


def unstorable_text(value: Any, path: str = "body") -> str | None:
    """The first field holding text no database can store (NUL, lone surrogates), or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return path
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = unstorable_text(key, path) or unstorable_text(item, f"{path}.{key}")
            if found:
                return found.removeprefix("body.")
    if isinstance(value, list):
        for item in value:
            found = unstorable_text(item, path)
            if found:
                return found.removeprefix("body.")
    return None


def error(status: int, message: str, **extra: Any):
    """``{"error": message, "status": status}`` (the ``Error`` schema)."""
    return jsonify(error=message, status=status, **extra), status


def unprocessable(errors: dict[str, list[str]] | list[str]):
    """422 with messages per field (the ``FieldErrors`` schema)."""
    return jsonify(errors=errors), 422


def text_error(field: str):
    return unprocessable({field: [_("This text contains characters that cannot be stored.")]})


def json_body(*, object_only: bool = False) -> Any:
    """The request's JSON body; raises :class:`ValidationError` (answered 422 by the
    blueprint's handler) for text no database can store and, with ``object_only``, for a
    body that is not a JSON object."""
    body = request.get_json(silent=True)
    if bad := unstorable_text(body):
        raise ValidationError({bad: [_("This text contains characters that cannot be stored.")]})
    if object_only and not isinstance(body, dict):
        raise ValidationError({"body": [_("Send a JSON object.")]})
    return body


def field(body: Any, name: str) -> Any:
    """One field of a body that may not be an object (None then: the service says what
    is missing)."""
    return body.get(name) if isinstance(body, dict) else None
