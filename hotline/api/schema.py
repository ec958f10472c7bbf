"""The OpenAPI document of the JSON API, derived from the code: the operations are the
routes under ``/api/v1`` in the app's URL map, and each route's bodies, query parameters
and answers are the pydantic models it declares with :func:`documented` (the same models
that validate the requests, see :mod:`hotline.validation`).

A route under ``/api/v1`` that declares nothing makes the document fail to build (mark it
:func:`undocumented` when it is not an API operation), so the document cannot miss one.
The 401 and 403 answers come from ``token_required``, the 422 from a declared body or
query; the JSON Schemas are pydantic's (OpenAPI 3.1 uses JSON Schema 2020-12 as it is).

Why pydantic v2 and this small glue rather than a Flask extension: see
:mod:`hotline.validation` (in short, the exact 422 format and document stay ours).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from werkzeug.routing import Rule

from hotline.api.responses import Error, FieldErrors

PREFIX = "/api/v1"
REF_TEMPLATE = "#/components/schemas/{model}"
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_CONVERTER_SCHEMAS = {"int": {"type": "integer", "minimum": 0}}


class OpenAPISchema(GenerateJsonSchema):
    """pydantic's JSON Schema without a generated title on every property."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: Any) -> dict[str, Any]:
        """A field left out is documented without ``"default": null`` (``null`` is not a
        value the field's schema allows; leaving it out is)."""
        json_schema = super().default_schema(schema)
        if "default" in json_schema and json_schema["default"] is None:
            del json_schema["default"]
        return json_schema


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON Schema as the document's components hold it."""
    return model.model_json_schema(ref_template=REF_TEMPLATE, schema_generator=OpenAPISchema)


@dataclass(frozen=True)
class Operation:
    """What a route declares: its answers (status → model and description), and the models
    of its JSON body and of its query string, if any."""

    operation_id: str
    responses: dict[int, tuple[type[BaseModel], str]]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    description: str | None = None
    summary: str = field(default="")

    def models(self) -> list[type[BaseModel]]:
        found = [
            model
            for model, _description in self.responses.values()
            if not getattr(model, "media_type", None)
        ]
        return [*([self.body] if self.body else []), *([self.query] if self.query else []), *found]


def documented(
    operation_id: str,
    *,
    responses: dict[int, tuple[type[BaseModel], str]],
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    description: str | None = None,
) -> Callable:
    """Declare a view's operation (put it right under the route decorator)."""

    def mark(view: Callable) -> Callable:
        summary = (view.__doc__ or "").strip().split("\n\n")[0]
        view.api_operation = Operation(  # type: ignore[attr-defined]
            operation_id,
            responses,
            body,
            query,
            description,
            " ".join(summary.split()),
        )
        return view

    return mark


def undocumented(view: Callable) -> Callable:
    """A route under ``/api/v1`` that is not an operation of the API (the document itself)."""
    view.api_undocumented = True  # type: ignore[attr-defined]
    return view


def api_routes(app: Flask) -> Iterator[tuple[Rule, Callable]]:
    """Every route under ``/api/v1`` with its view."""
    for rule in app.url_map.iter_rules():
        if rule.rule == PREFIX or rule.rule.startswith(PREFIX + "/"):
            yield rule, app.view_functions[rule.endpoint]


def documented_path(rule: Rule) -> str:
    """``/api/v1/referrals/<int:referral_id>/outcome`` → ``…/{referral_id}/outcome``."""
    return _ARGUMENT.sub(lambda m: "{" + m[2] + "}", rule.rule)


def _operations(app: Flask) -> Iterator[tuple[Rule, str, Callable, Operation]]:
    for rule, view in api_routes(app):
        if getattr(view, "api_undocumented", False):
            continue
        operation = getattr(view, "api_operation", None)
        if operation is None:
            raise LookupError(f"{rule.rule} ({rule.endpoint}) declares no API operation")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method, view, operation


def _name(ref: dict[str, Any]) -> str:
    return ref["$ref"].rsplit("/", 1)[-1]


def _json(ref: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def _media(model: type[BaseModel], description: str) -> dict[str, Any]:
    """A binary answer (audio): its media range, no JSON schema."""
    binary = {"type": "string", "contentMediaType": model.media_type}
    return {"description": description, "content": {model.media_type: {"schema": binary}}}


def _parameters(rule: Rule, query: dict[str, Any] | None) -> list[dict[str, Any]]:
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": dict(_CONVERTER_SCHEMAS.get(converter, {"type": "string"})),
        }
        for converter, name in _ARGUMENT.findall(rule.rule)
    ]
    if query:
        required = set(query.get("required", ()))
        for name, schema in query.get("properties", {}).items():
            parameter = {"name": name, "in": "query", "required": name in required}
            if "description" in schema:
                parameter["description"] = schema["description"]
            parameters.append(parameter | {"schema": schema})
    return parameters


def openapi_document(app: Flask | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every operation under ``/api/v1``."""
    app = app or current_app
    operations = list(_operations(app))
    models = {Error: None, FieldErrors: None}
    for *_rest, operation in operations:
        models.update(dict.fromkeys(operation.models()))
    refs, definitions = models_json_schema(
        [(model, "validation") for model in models],
        ref_template=REF_TEMPLATE,
        schema_generator=OpenAPISchema,
    )
    schemas = definitions.get("$defs", {})

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return refs[(model, "validation")]

    paths: dict[str, dict[str, Any]] = {}
    for rule, method, view, operation in operations:
        query = schemas[_name(ref(operation.query))] if operation.query else None
        entry: dict[str, Any] = {
            "operationId": operation.operation_id,
            "summary": operation.summary,
        }
        if operation.description:
            entry["description"] = operation.description
        if parameters := _parameters(rule, query):
            entry["parameters"] = parameters
        if operation.body:  # written out in place, as clients read a body's fields there
            body = schemas[_name(ref(operation.body))]
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": dict(body)}},
            }
        responses = {
            str(status): _media(model, description)
            if getattr(model, "media_type", None)
            else _json(ref(model), description)
            for status, (model, description) in operation.responses.items()
        }
        # Any request holding a NUL character is refused before it reaches the operation
        # (no stored field can hold one: ``hotline/web/__init__.py:_refuse_nul_bytes``).
        responses["400"] = _json(ref(Error), "The request holds a NUL character.")
        roles = getattr(view, "api_roles", None)
        if roles is not None:
            responses["401"] = _json(ref(Error), "No valid bearer token.")
        if roles:
            responses["403"] = _json(ref(Error), "The token's role cannot use this operation.")
        if operation.body or operation.query:
            responses["422"] = _json(
                ref(FieldErrors), "The request cannot be accepted; messages per field."
            )
        entry["responses"] = dict(sorted(responses.items()))
        paths.setdefault(documented_path(rule), {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hotline 18001769 API",
            "version": "1",
            "description": (
                "Intake and referrals of Quảng Ninh's GBV hotline. Tokens come from "
                "`flask --app app users token USERNAME`; each token acts with its user's role. "
                "Texts (reason, errors) are Vietnamese unless `?lang=en`."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": dict(sorted(paths.items())),
    }
