"""Validating JSON bodies and query strings with pydantic models, with our own field errors.

A request shape is declared once, as a pydantic v2 model whose fields use the kinds of
:mod:`hotline.validation.fields`; the same model gives the validation (here) and the
OpenAPI schema (``hotline.api.schema``). Errors come out as ``{"field": ["message", …]}``
with the translated messages the API has always given, never pydantic's own texts.

Why plain pydantic v2 and a small glue rather than a Flask extension (flask-smorest,
flask-openapi3, spectree): pydantic alone gives the models, their JSON Schema and the error
collection, while the exact 422 body (field keys, Babel-translated messages, one error list
per field), the 401/403/404 rules and the operations' documentation stay in our hands in
about two hundred lines. The extensions each impose their own error format, routing
decorators and document layout, which we would have to override to keep the contract.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask_babel import gettext as _
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError
from pydantic_core import PydanticCustomError

from hotline.errors import ValidationError

#: The pydantic error type of every problem our field kinds report.
ERROR_TYPE = "hotline"

M = TypeVar("M", bound=BaseModel)


def invalid(*messages: str, key: str | None = None) -> PydanticCustomError:
    """A field's problem: ``messages`` under ``key`` (default: the field's dotted path)."""
    context = {"messages": list(messages), "key": key}
    return PydanticCustomError(ERROR_TYPE, "invalid value", context)


def invalid_fields(errors: dict[str, list[str]]) -> PydanticCustomError:
    """Problems of several fields at once (model-level rules), keyed by field."""
    return PydanticCustomError(ERROR_TYPE, "invalid values", {"errors": errors})


def _kind_at(model: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    """The field kind (see :mod:`hotline.validation.fields`) declared at ``loc``, or None."""
    for depth, name in enumerate(loc):
        field = model.model_fields.get(str(name))
        if field is None:
            return None
        if depth == len(loc) - 1:
            return next((m for m in field.metadata if hasattr(m, "missing")), None)
        model = field.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
    return None


def field_errors(exc: PydanticError, model: type[BaseModel]) -> dict[str, list[str]]:
    """``exc`` as the API's field errors: ``{"key": [messages]}``, in field order."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        ctx = error.get("ctx") or {}
        loc = error["loc"]
        dotted = ".".join(str(p) for p in loc) or "body"
        if error["type"] == ERROR_TYPE and "errors" in ctx:
            for key, messages in ctx["errors"].items():
                errors.setdefault(key, []).extend(messages)
            continue
        if error["type"] == ERROR_TYPE:
            key, messages = ctx.get("key") or dotted, ctx["messages"]
        elif error["type"] == "missing":
            kind = _kind_at(model, loc)
            key = (kind.key if kind else None) or dotted
            messages = kind.missing() if kind else [_("This field is required.")]
        else:  # not produced by our kinds; kept readable rather than failing
            key, messages = dotted, [error["msg"]]
        errors.setdefault(key, []).extend(messages)
    return errors


def validate(model: type[M], data: Any) -> M:
    """``data`` (a decoded JSON body, or a query string as a dict) as ``model``; raise
    :class:`hotline.errors.ValidationError` with every field's problem."""
    if not isinstance(data, dict):
        raise ValidationError({"body": [_("Send a JSON object.")]})
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        raise ValidationError(field_errors(exc, model)) from None
