"""``GET /api/v1/openapi.json``: the OpenAPI document, derived by :mod:`hotline.api.schema`."""

from __future__ import annotations

from flask import jsonify

from hotline.api.blueprint import bp
from hotline.api.schema import openapi_document, undocumented


@bp.get("/openapi.json")
@undocumented
def openapi():
    """The OpenAPI document of this API."""
    return jsonify(openapi_document())
