"""Translatable messages without a dependency on Flask or Babel.

``routing/`` never translates: it marks every human-readable string with :func:`N_` so
``pybabel extract -k N_`` finds it, and hands back a :class:`Message` (the English msgid plus
named parameters). The caller renders it with the active language's ``gettext``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

Gettext = Callable[[str], str]


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction; return it unchanged (translation happens later)."""
    return msgid


def identity(text: str) -> str:
    """A gettext that returns the English msgid: for tests and logs."""
    return text


_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Message:
    """An English msgid with named ``%(name)s`` parameters, rendered later by the caller.

    A parameter may itself be a :class:`Message` (e.g. a service name or "24/7"); it is
    rendered with the same gettext first.
    """

    msgid: str
    params: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def render(self, gettext: Gettext = identity) -> str:
        """The text in the language of ``gettext``."""
        text = gettext(self.msgid)
        if not self.params:
            return text
        values = {
            k: v.render(gettext) if isinstance(v, (Message, TermList)) else v
            for k, v in self.params.items()
        }
        return text % values


@dataclass(frozen=True, slots=True)
class TermList:
    """Several msgids rendered translated and joined by commas (a parameter of a Message)."""

    msgids: tuple[str, ...]

    def render(self, gettext: Gettext = identity) -> str:
        return ", ".join(gettext(m) for m in self.msgids)


def msg(msgid: str, **params: Any) -> Message:
    """Shorthand for ``Message(msgid, params)``; pass an ``N_()``-marked msgid."""
    return Message(msgid, MappingProxyType(params) if params else _EMPTY)


def join_sentence(parts: tuple[Message, ...] | list[Message], gettext: Gettext = identity) -> str:
    """Render ``parts`` as one sentence: joined by "; ", first letter upper-cased, final "."."""
    text = "; ".join(p.render(gettext) for p in parts if p is not None)
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
