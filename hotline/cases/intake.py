"""Creating cases: validate an intake, route it, and write the referral, alerts and outbox
work in one transaction.

Every channel goes through here (the JSON API and intake form, the SMS and voice flows),
so a case is routed and alerted the same way whoever records it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.audit import record_event
from hotline.directory.decisions import decide
from hotline.errors import ValidationError
from hotline.phones import normalise_phone
from hotline.referrals.create import refer
from models import Case, CaseCode, Contact, Message, ServicePoint, User, db
from models.types import utcnow
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
from routing.resolve import resolve_place
from routing.select import Decision, PlaceCodeError, place_from_codes

#: Crockford base32 without I, L, O, U: easy to read out and type back from an SMS.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MAX_NOTES = 10_000


@dataclass
class CaseInput:
    """A validated intake, in the terms of the API body (DESIGN.md section 7)."""

    channel: str
    risk: str
    area: dict[str, str] = field(default_factory=dict)
    contact_sid: str | None = None
    survivor_sex: str = "unknown"
    survivor_age_band: str = "unknown"
    violence_types: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)
    perpetrator_relationship: str | None = None
    perpetrator_sex: str | None = None
    perpetrator_age_band: str | None = None
    needs: list[str] = field(default_factory=list)
    consent_referral: bool = False
    consent_follow_up: bool = False
    consent_reporting: bool = False
    safe_channel: str = "none"
    safe_phone: str | None = None
    safe_hours: str | None = None
    notes: str | None = None
    #: An operator's choice of another point in the decision's chain, with the reason.
    override_code: str | None = None
    override_reason: str | None = None


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)


def _choice(body: dict, name: str, allowed: tuple[str, ...], errors: _Errors, *, default=None):
    value = body.get(name, default)
    if value is None:
        if default is None:
            errors.add(name, _("This field is required."))
        return default
    if not isinstance(value, str) or value not in allowed:
        errors.add(name, _("Choose one of: %(allowed)s.", allowed=", ".join(allowed)))
        return default
    return value


def _choices(body: dict, name: str, allowed: tuple[str, ...], errors: _Errors) -> list[str]:
    value = body.get(name, [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.add(name, _("Give a list of codes."))
        return []
    unknown = [v for v in value if v not in allowed]
    if unknown:
        errors.add(
            name,
            _(
                "Unknown codes %(codes)s; choose from: %(allowed)s.",
                codes=", ".join(unknown),
                allowed=", ".join(allowed),
            ),
        )
        return []
    return list(dict.fromkeys(value))


def _object(body: dict, name: str, errors: _Errors) -> dict:
    value = body.get(name, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add(name, _("Give an object."))
        return {}
    return value


def parse_case_body(body: Any) -> CaseInput:
    """Validate an API-style body; raise :class:`ValidationError` with every field's problem."""
    errors = _Errors()
    if not isinstance(body, dict):
        raise ValidationError({"body": [_("Send a JSON object.")]})

    channel = _choice(body, "channel", CHANNELS, errors)
    risk = _choice(body, "risk", RISKS, errors)

    area = _object(body, "area", errors)
    area_keys = [k for k in ("commune_code", "district_code", "text") if area.get(k)]
    if len(area_keys) != 1 or not isinstance(area.get(area_keys[0]), str):
        errors.add(
            "area", _("Give exactly one of commune_code, district_code or text, as a string.")
        )
        area = {}
    else:
        area = {area_keys[0]: area[area_keys[0]].strip()}

    contact_sid = body.get("contact_sid")
    if contact_sid is not None and (not isinstance(contact_sid, str) or len(contact_sid) > 64):
        errors.add("contact_sid", _("Give the call or message id as text."))
        contact_sid = None

    survivor = _object(body, "survivor", errors)
    sex = _choice(survivor, "sex", SEXES, errors, default="unknown")
    age_band = _choice(survivor, "age_band", AGE_BANDS, errors, default="unknown")

    perpetrator = _object(body, "perpetrator", errors)
    relationship = perpetrator.get("relationship")
    if relationship is not None and (not isinstance(relationship, str) or len(relationship) > 40):
        errors.add("perpetrator.relationship", _("Give the relationship as a short code."))
        relationship = None
    p_sex = perpetrator.get("sex")
    if p_sex is not None and p_sex not in SEXES:
        errors.add("perpetrator.sex", _("Choose one of: %(allowed)s.", allowed=", ".join(SEXES)))
        p_sex = None
    p_age = perpetrator.get("age_band")
    if p_age is not None and p_age not in AGE_BANDS:
        errors.add(
            "perpetrator.age_band", _("Choose one of: %(allowed)s.", allowed=", ".join(AGE_BANDS))
        )
        p_age = None

    consent = _object(body, "consent", errors)
    flags = {}
    for key in ("referral", "follow_up", "reporting"):
        value = consent.get(key, False)
        if not isinstance(value, bool):
            errors.add(f"consent.{key}", _("Give true or false."))
            value = False
        flags[key] = value

    safe = _object(body, "safe_contact", errors)
    safe_channel = _choice(safe, "channel", SAFE_CHANNELS, errors, default="none")
    safe_phone = None
    safe_hours = None
    if safe_channel != "none":
        raw_phone = safe.get("phone")
        safe_phone = normalise_phone(raw_phone) if isinstance(raw_phone, str) else None
        if safe_phone is None:
            errors.add("safe_contact.phone", _("Give a valid phone number for safe contact."))
        raw_hours = safe.get("hours")
        try:
            safe_hours = str(parse_window(raw_hours)) if isinstance(raw_hours, str) else None
        except HoursSyntaxError:
            safe_hours = None
        if safe_hours is None:
            errors.add("safe_contact.hours", _("Give the safe hours as HH:MM-HH:MM."))
    if flags["follow_up"] and safe_channel == "none":
        errors.add(
            "safe_contact.channel",
            _("Follow-up needs a safe channel (SMS or call) and safe hours."),
        )

    notes = body.get("notes")
    if notes is not None and (not isinstance(notes, str) or len(notes) > MAX_NOTES):
        errors.add("notes", _("Notes must be text of at most %(n)d characters.", n=MAX_NOTES))
        notes = None

    violence_types = _choices(body, "violence_types", VIOLENCE_TYPES, errors)
    contexts = _choices(body, "contexts", CONTEXTS, errors)
    needs = _choices(body, "needs", SERVICES, errors)

    if errors.fields:
        raise ValidationError(errors.fields)
    return CaseInput(
        channel=channel,
        risk=risk,
        area=area,
        contact_sid=contact_sid,
        survivor_sex=sex,
        survivor_age_band=age_band,
        violence_types=violence_types,
        contexts=contexts,
        perpetrator_relationship=relationship,
        perpetrator_sex=p_sex,
        perpetrator_age_band=p_age,
        needs=needs,
        consent_referral=flags["referral"],
        consent_follow_up=flags["follow_up"],
        consent_reporting=flags["reporting"],
        safe_channel=safe_channel,
        safe_phone=safe_phone,
        safe_hours=safe_hours,
        notes=notes or None,
    )


def resolve_area(area: dict[str, str]) -> object:
    """The place for routing from an ``area`` object; ValidationError when it is unusable."""
    try:
        if "commune_code" in area:
            return place_from_codes(commune_code=area["commune_code"])
        if "district_code" in area:
            return place_from_codes(district_code=area["district_code"])
    except PlaceCodeError as exc:
        raise ValidationError({"area": [exc.message.render(_)]}) from None
    if "text" in area:
        resolution = resolve_place(area["text"])
        if resolution.status == "resolved":
            return resolution.best
        if resolution.status == "ambiguous":
            labels = ", ".join(m.label for m in resolution.candidates)
            raise ValidationError(
                {"area": [_("Which place is meant: %(options)s?", options=labels)]}
            )
        if resolution.status == "outside_province":
            raise ValidationError({"area": [_("This place is outside Quảng Ninh.")]})
        raise ValidationError({"area": [_("No place in Quảng Ninh was recognised.")]})
    return None


def new_reference() -> str:
    """A short case reference such as ``QN2611-7K3FX`` (year, month, 5 random characters)."""
    now = utcnow()
    tail = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(5))
    return f"QN{now:%y%m}-{tail}"


def _reason_texts(decision: Decision) -> dict[str, str]:
    texts = {}
    for lang in ("vi", "en"):
        with force_locale(lang):
            texts[lang] = decision.reason(_)
    return texts


def routing_record(decision: Decision) -> dict[str, Any]:
    """The decision as stored on the case: codes only, plus the readable reason."""
    return {
        "chain": [p.code for p in decision.chain],
        "tiers": list(decision.tiers),
        "police": decision.police.code if decision.police else None,
        "child_protection": (
            decision.child_protection.code if decision.child_protection else None
        ),
        "instructions": list(decision.instruction_codes),
        "reason": _reason_texts(decision),
        "commune_codes": list(decision.place.commune_codes),
        "district_codes": list(decision.place.district_codes),
    }


def find_contact(sid: str) -> Contact | None:
    """The contact a provider id belongs to: a call's id, or any message of a conversation."""
    contact = db.session.scalar(select(Contact).where(Contact.provider_sid == sid))
    if contact is None:
        contact = db.session.scalar(
            select(Contact).join(Message).where(Message.provider_sid == sid)
        )
    return contact


def create_case(
    data: CaseInput,
    *,
    actor: User | str,
    place: object | None = None,
    contact: Contact | None = None,
) -> tuple[Case, Decision]:
    """Store a case, route it and, with referral consent, refer it and queue the alerts.

    ``place`` is an already-resolved place (a ``PlaceMatch`` from the SMS or voice flow);
    otherwise ``data.area`` is resolved. ``contact`` is the call or conversation the case
    comes from when the caller already holds it (else ``data.contact_sid`` names it).
    Runs in the caller's transaction; the caller commits (one commit: case, referral,
    alert and outbox rows together, or nothing).
    """
    if place is None:
        place = resolve_area(data.area)
    decision = decide(
        place, needs=set(data.needs), risk=data.risk, age_band=data.survivor_age_band
    )
    if contact is None and data.contact_sid:
        contact = db.session.scalar(
            select(Contact).where(Contact.provider_sid == data.contact_sid)
        )
        if contact is None:
            raise ValidationError({"contact_sid": [_("No call or message has this id.")]})

    chain_codes = [p.code for p in decision.chain]
    override = None
    if data.override_code:
        if data.override_code not in chain_codes and data.override_code != (
            decision.police.code if decision.police else None
        ):
            raise ValidationError({"override": [_("Choose a point from the routing decision.")]})
        if not (data.override_reason or "").strip():
            raise ValidationError({"override_reason": [_("Say why another point is chosen.")]})
        override = data.override_code

    case = Case(
        reference=new_reference(),
        contact_id=contact.id if contact else None,
        channel=data.channel,
        commune_code=(decision.place.commune_codes[0] if decision.place.commune_codes else None),
        district_code=(
            decision.place.district_codes[0] if decision.place.district_codes else None
        ),
        survivor_sex=data.survivor_sex,
        survivor_age_band=data.survivor_age_band,
        perpetrator_relationship=data.perpetrator_relationship,
        perpetrator_sex=data.perpetrator_sex,
        perpetrator_age_band=data.perpetrator_age_band,
        risk=data.risk,
        consent_referral=data.consent_referral,
        consent_follow_up=data.consent_follow_up,
        consent_reporting=data.consent_reporting,
        safe_channel=data.safe_channel,
        safe_phone=data.safe_phone,
        safe_hours=data.safe_hours,
        notes=data.notes,
        routing=routing_record(decision),
        status="referred" if data.consent_referral and decision.primary is not None else "open",
        created_by_id=actor.id if isinstance(actor, User) else None,
    )
    for dimension, codes in (
        ("violence_type", data.violence_types),
        ("context", data.contexts),
        ("need", data.needs),
    ):
        case.codes.extend(CaseCode(dimension=dimension, code=c) for c in codes)
    while db.session.scalar(select(Case.id).where(Case.reference == case.reference)):
        case.reference = new_reference()
    db.session.add(case)
    db.session.flush()

    if data.consent_referral and decision.primary is not None:
        points = {
            p.code: p
            for p in db.session.scalars(
                select(ServicePoint).where(
                    ServicePoint.code.in_(
                        [*chain_codes, *([decision.police.code] if decision.police else [])]
                    )
                )
            )
        }
        primary_code = override or decision.primary.code
        refer(
            case,
            points[primary_code],
            step=0,
            reason=case.routing["reason"]["en"],
            chosen_by="operator" if override else "routing",
            override_reason=data.override_reason if override else None,
        )
        if decision.police and decision.police.code != primary_code:
            refer(case, points[decision.police.code], step=0, reason="police")
    record_event(
        actor,
        "case.create",
        "case",
        case.reference,
        {"channel": case.channel, "risk": case.risk, "referred": case.status == "referred"},
    )
    return case, decision
