"""The blueprint the JSON API's operations are registered on (``/api/v1``)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from hotline.errors import ValidationError
from models import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(ValidationError)
def unprocessable_input(exc: ValidationError):
    """Any operation's input that cannot be accepted: nothing stored, 422 with the messages
    per field (the ``FieldErrors`` schema)."""
    db.session.rollback()
    return jsonify(errors=exc.errors), 422
