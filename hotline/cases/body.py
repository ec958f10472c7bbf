"""The body of a new case (``POST /api/v1/cases``, DESIGN.md section 7), declared once: the
API and the intake form validate with it, and the OpenAPI document shows its schema."""

from __future__ import annotations

import csv
from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticError
from pydantic_core import PydanticUseDefault

from hotline.phones import normalise_phone
from hotline.validation import field_errors, invalid_fields
from hotline.validation.fields import Choice, Codes, Flag, Kind, Obj, Text, Unchecked
from routing.codes import (
    AGE_BANDS,
    CHANNELS,
    CONTEXTS,
    RISKS,
    SAFE_CHANNELS,
    SERVICES,
    SEXES,
    VIOLENCE_TYPES,
)
from routing.hours import HoursSyntaxError, parse_window
from routing.places import COMMUNE_CODE_ALIASES, DATA_DIR

MAX_NOTES = 10_000
AREA_KEYS = ("commune_code", "district_code", "text")
_HOURS = "^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$"


@cache
def place_codes(kind: str) -> tuple[str, ...]:
    """Every code the API accepts: 2025 and pre-2025 communes, or pre-2025 districts."""
    files = (
        ("communes-2025.csv", "communes-2024.csv")
        if kind == "communes"
        else ("districts-2024.csv",)
    )
    codes: set[str] = set(COMMUNE_CODE_ALIASES) if kind == "communes" else set()
    for name in files:
        with (DATA_DIR / name).open(encoding="utf-8", newline="") as f:
            codes.update(row["code"] for row in csv.DictReader(f))
    return tuple(sorted(codes))


def _only(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: schema},
        "required": [name],
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class Area(Kind):
    """Exactly one of ``commune_code``, ``district_code`` or ``text``, as a string; the
    place itself is found when the case is routed."""

    def check(self, value: Any) -> dict[str, str]:
        messages = []
        if value is None:
            raise PydanticUseDefault()
        if not isinstance(value, dict):
            messages.append(_("Give an object."))
            value = {}
        keys = [k for k in AREA_KEYS if value.get(k)]
        if len(keys) != 1 or not isinstance(value.get(keys[0]), str):
            messages.extend(self.missing())
        if messages:
            raise self.fail(*messages)
        return {keys[0]: value[keys[0]].strip()}

    def missing(self) -> list[str]:
        return [_("Give exactly one of commune_code, district_code or text, as a string.")]

    def schema(self) -> dict[str, Any]:
        return {
            "description": "Exactly one of commune_code (2025 or pre-2025 GSO code), "
            "district_code (pre-2025) or text (the caller's words, resolved by routing).",
            "oneOf": [
                _only("commune_code", {"type": "string", "enum": list(place_codes("communes"))}),
                _only("district_code", {"type": "string", "enum": list(place_codes("districts"))}),
                _only("text", {"type": "string", "minLength": 1, "maxLength": 200}),
            ],
        }


class Survivor(BaseModel):
    sex: Annotated[str, Choice(SEXES, key="sex")] = "unknown"
    age_band: Annotated[str, Choice(AGE_BANDS, key="age_band")] = "unknown"


class Perpetrator(BaseModel):
    relationship: Annotated[
        str | None, Text(40, lambda: _("Give the relationship as a short code."))
    ] = None
    sex: Annotated[str | None, Choice(SEXES)] = None
    age_band: Annotated[str | None, Choice(AGE_BANDS)] = None


class Consent(BaseModel):
    referral: Annotated[bool, Flag()] = False
    follow_up: Annotated[bool, Flag()] = False
    reporting: Annotated[bool, Flag()] = False


SAFE_CHANNEL = Choice(SAFE_CHANNELS, key="channel")


class SafeContact(BaseModel):
    """``phone`` and ``hours`` are required unless ``channel`` is ``none``."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"properties": {"channel": {"const": "none"}}},
                {
                    "properties": {"channel": {"enum": [c for c in SAFE_CHANNELS if c != "none"]}},
                    "required": ["channel", "phone", "hours"],
                },
            ]
        }
    )

    channel: Annotated[str, SAFE_CHANNEL] = "none"
    phone: Annotated[
        str | None, Unchecked((("type", "string"), ("pattern", "^0[35789][0-9]{8}$")))
    ] = None
    hours: Annotated[str | None, Unchecked((("type", "string"), ("pattern", _HOURS)))] = None

    @model_validator(mode="after")
    def _phone_and_hours_for_a_channel(self) -> SafeContact:
        if self.channel == "none":
            self.phone = self.hours = None
            return self
        errors: dict[str, list[str]] = {}
        self.phone = normalise_phone(self.phone) if isinstance(self.phone, str) else None
        if self.phone is None:
            errors["safe_contact.phone"] = [_("Give a valid phone number for safe contact.")]
        raw_hours, self.hours = self.hours, None
        with suppress(HoursSyntaxError):
            self.hours = str(parse_window(raw_hours)) if isinstance(raw_hours, str) else None
        if self.hours is None:
            errors["safe_contact.hours"] = [_("Give the safe hours as HH:MM-HH:MM.")]
        if errors:
            raise invalid_fields(errors)
        return self


class CaseBody(BaseModel):
    """A new case as the API receives it (unknown fields are ignored)."""

    channel: Annotated[str, Choice(CHANNELS)]
    risk: Annotated[str, Choice(RISKS)]
    area: Annotated[dict[str, str], Area()]
    contact_sid: Annotated[
        str | None, Text(64, lambda: _("Give the call or message id as text."))
    ] = None
    survivor: Annotated[Survivor, Obj()] = Field(default_factory=Survivor)
    perpetrator: Annotated[Perpetrator, Obj()] = Field(default_factory=Perpetrator)
    consent: Annotated[Consent, Obj()] = Field(default_factory=Consent)
    safe_contact: Annotated[SafeContact, Obj()] = Field(default_factory=SafeContact)
    notes: Annotated[
        str | None,
        Text(
            MAX_NOTES,
            lambda: _("Notes must be text of at most %(n)d characters.", n=MAX_NOTES),
        ),
    ] = None
    violence_types: Annotated[list[str], Codes(VIOLENCE_TYPES)] = []
    contexts: Annotated[list[str], Codes(CONTEXTS)] = []
    needs: Annotated[list[str], Codes(SERVICES)] = []

    @model_validator(mode="wrap")
    @classmethod
    def _follow_up_needs_a_safe_channel(cls, data: Any, handler: Any) -> CaseBody:
        """Checked on the raw body, so it is reported alongside every other problem."""
        if not isinstance(data, dict) or not _follow_up_without_channel(data):
            return handler(data)
        problem = {
            "safe_contact.channel": [
                _("Follow-up needs a safe channel (SMS or call) and safe hours.")
            ]
        }
        try:
            handler(data)
        except PydanticError as exc:
            # In field order: after the safe_contact errors, before those of later fields.
            items = list(field_errors(exc, cls).items())
            names = list(cls.model_fields)
            later = names[names.index("safe_contact") + 1 :]
            at = next((n for n, (key, _m) in enumerate(items) if key in later), len(items))
            items[at:at] = problem.items()
            raise invalid_fields(dict(items)) from None
        raise invalid_fields(problem)


def _follow_up_without_channel(data: dict) -> bool:
    consent, safe = data.get("consent"), data.get("safe_contact")
    follow_up = isinstance(consent, dict) and consent.get("follow_up", False) is True
    channel = safe.get("channel") if isinstance(safe, dict) else None
    try:
        channel = SAFE_CHANNEL.check(channel)
    except (PydanticUseDefault, ValueError):
        channel = "none"
    return follow_up and channel == "none"
