"""The kinds of field a request model is made of. Each kind is one declaration giving both
the check (with the API's translated messages) and the JSON Schema of the field:

    channel: Annotated[str, Choice(CHANNELS)]
    survivor: Annotated[Survivor, Obj()] = Field(default_factory=Survivor)

A ``null`` value counts as left out (the field's default) unless the kind says otherwise;
a required field left out gets the kind's :meth:`Kind.missing` messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from pydantic_core import PydanticCustomError, PydanticUseDefault, core_schema

from hotline.validation import invalid

Message = Callable[[], str]


class Kind:
    """A field checked by :meth:`check` (the raw JSON value in, the clean value out)."""

    #: The error key when it is not the field's dotted path (kept from the API's history).
    key: str | None = None

    def check(self, value: Any) -> Any:
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def missing(self) -> list[str]:
        """The messages when a required field is left out (or null)."""
        return [_("This field is required.")]

    def fail(self, *messages: str) -> PydanticCustomError:
        return invalid(*messages, key=self.key)

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.check)

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        found = self.schema()
        if self.key:  # documents the key its 422 errors come under
            found["x-error-key"] = self.key
        return found


@dataclass(frozen=True)
class Choice(Kind):
    """One code of ``allowed``."""

    allowed: tuple[str, ...]
    key: str | None = None

    def check(self, value: Any) -> str:
        if value is None:
            raise PydanticUseDefault()
        if not isinstance(value, str) or value not in self.allowed:
            raise self.fail(_("Choose one of: %(allowed)s.", allowed=", ".join(self.allowed)))
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.allowed)}


def _codes_message() -> str:
    return _("Give a list of codes.")


@dataclass(frozen=True)
class Codes(Kind):
    """A list of codes of ``allowed``, repeats dropped (``known=False``: any text, checked
    later by the service, kept as given)."""

    allowed: tuple[str, ...]
    not_a_list: Message = _codes_message
    known: bool = True

    def check(self, value: Any) -> list[str]:
        if value is None:
            raise PydanticUseDefault()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(self.not_a_list())
        if not self.known:
            return value
        unknown = [v for v in value if v not in self.allowed]
        if unknown:
            raise self.fail(
                _(
                    "Unknown codes %(codes)s; choose from: %(allowed)s.",
                    codes=", ".join(unknown),
                    allowed=", ".join(self.allowed),
                )
            )
        return list(dict.fromkeys(value))

    def missing(self) -> list[str]:
        return [self.not_a_list()]

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string", "enum": list(self.allowed)}}


@dataclass(frozen=True)
class Text(Kind):
    """Text of at most ``max_length`` characters."""

    max_length: int
    message: Message

    def check(self, value: Any) -> str:
        if value is None:
            raise PydanticUseDefault()
        if not isinstance(value, str) or len(value) > self.max_length:
            raise self.fail(self.message())
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.max_length}


@dataclass(frozen=True)
class Flag(Kind):
    """``true`` or ``false`` (``null`` is refused, not taken as left out)."""

    def check(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(_("Give true or false."))
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Unchecked(Kind):
    """Any value, kept as sent: the model's own rule checks it (the schema documents what
    that rule accepts)."""

    documented: tuple[tuple[str, Any], ...] = field(default=())

    def check(self, value: Any) -> Any:
        return value

    def schema(self) -> dict[str, Any]:
        return dict(self.documented)


def _object_message() -> str:
    return _("Give an object.")


@dataclass(frozen=True)
class Obj:
    """A nested model; ``null`` is left out; anything but an object gets ``message``.
    ``inline``: the schema is written in place rather than as a shared component."""

    message: Message = _object_message
    inline: bool = False

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_wrap_validator_function(self._check, handler(source))

    def _check(self, value: Any, inner: Callable[[Any], Any]) -> Any:
        if value is None:
            raise PydanticUseDefault()
        if not isinstance(value, dict):
            raise invalid(self.message())
        return inner(value)

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        found = handler(schema)
        return dict(handler.resolve_ref_schema(found)) if self.inline else found
