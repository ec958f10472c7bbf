"""The blueprint the JSON API's operations are registered on (``/api/v1``)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
