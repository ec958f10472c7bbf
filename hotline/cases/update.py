"""Completing or correcting an intake after the call (``PATCH /api/v1/cases/<ref>``,
DESIGN.md section 11): any field of the case body except ``channel`` and
``contact_sid``. The audit log names the fields that changed, never their values.

An SMS-started case is completed this way (violence types, consent, safe contact,
survivor) so it can count in the statistics. A new place, need, risk or age band routes
the case again; a case that now has referral consent and no referral is referred and
alerted like any other. Referrals already made stay (the operator can refer by hand).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from hotline.audit import record_event
from hotline.cases.intake import (
    CaseInput,
    parse_case_body,
    refer_routed,
    resolve_area,
    routing_record,
)
from hotline.directory.decisions import decide
from hotline.errors import ValidationError
from hotline.privacy import number_hash
from models import Case, CaseCode, User, db
from routing.select import PlaceCodeError, place_from_codes

FIXED = ("channel", "contact_sid")
_OBJECTS = ("survivor", "perpetrator", "consent", "safe_contact")
#: A stand-in for the area when the patch leaves it alone (only its shape is validated).
_SAME_AREA = {"text": "unchanged"}
#: CaseInput attribute → the body field it is (the names the audit log uses).
FIELDS = {
    "risk": "risk",
    "survivor_sex": "survivor.sex",
    "survivor_age_band": "survivor.age_band",
    "perpetrator_relationship": "perpetrator.relationship",
    "perpetrator_sex": "perpetrator.sex",
    "perpetrator_age_band": "perpetrator.age_band",
    "consent_referral": "consent.referral",
    "consent_follow_up": "consent.follow_up",
    "consent_reporting": "consent.reporting",
    "safe_channel": "safe_contact.channel",
    "safe_phone": "safe_contact.phone",
    "safe_hours": "safe_contact.hours",
    "notes": "notes",
    "violence_types": "violence_types",
    "contexts": "contexts",
    "needs": "needs",
}
_ROUTING_INPUTS = {"risk", "survivor_age_band", "needs"}


def current_body(case: Case) -> dict[str, Any]:
    """The case as a §7 body (what a PATCH is merged into)."""
    safe: dict[str, Any] = {"channel": case.safe_channel}
    if case.safe_channel != "none":
        safe.update(phone=case.safe_phone, hours=case.safe_hours)
    perpetrator: dict[str, Any] = {"relationship": case.perpetrator_relationship}
    for key in ("sex", "age_band"):
        if (value := getattr(case, f"perpetrator_{key}")) is not None:
            perpetrator[key] = value
    return {
        "channel": case.channel,
        "risk": case.risk,
        "area": _SAME_AREA,
        "survivor": {"sex": case.survivor_sex, "age_band": case.survivor_age_band},
        "perpetrator": perpetrator,
        "consent": {
            "referral": case.consent_referral,
            "follow_up": case.consent_follow_up,
            "reporting": case.consent_reporting,
        },
        "safe_contact": safe,
        "notes": case.notes,
        "violence_types": case.coded("violence_type"),
        "contexts": case.coded("context"),
        "needs": case.coded("need"),
    }


def _value(data: CaseInput, name: str) -> Any:
    value = getattr(data, name)
    return sorted(value) if isinstance(value, list) else value


def _stored(case: Case, name: str) -> Any:
    coded = {"violence_types": "violence_type", "contexts": "context", "needs": "need"}
    if name in coded:
        return case.coded(coded[name])
    column = {
        "consent_referral": "consent_referral",
        "consent_follow_up": "consent_follow_up",
        "consent_reporting": "consent_reporting",
    }.get(name, name)
    return getattr(case, column)


def patch_case(case: Case, patch: Any, user: User) -> list[str]:
    """Apply a partial body to the case (in the caller's transaction); the body fields
    that changed. Raises :class:`ValidationError` naming every problem (nothing changes)."""
    if not isinstance(patch, dict):
        raise ValidationError({"body": [_("Send a JSON object.")]})
    fixed = {k: [_("This field cannot be changed after the intake.")] for k in FIXED if k in patch}
    merged = current_body(case)
    for key, value in patch.items():
        if key in _OBJECTS and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        elif key not in FIXED:
            merged[key] = value
    try:
        data = parse_case_body(merged)
    except ValidationError as exc:
        raise ValidationError({**fixed, **exc.errors}) from None
    if fixed:
        raise ValidationError(fixed)

    place = None
    new_area = "area" in patch
    if new_area:
        place = resolve_area(data.area)
    changed = [name for name in FIELDS if _value(data, name) != _stored(case, name)]
    before_place = (case.commune_code, case.district_code)

    for name in changed:
        if name in ("violence_types", "contexts", "needs"):
            dimension = {
                "violence_types": "violence_type",
                "contexts": "context",
                "needs": "need",
            }[name]
            case.codes[:] = [c for c in case.codes if c.dimension != dimension]
            case.codes.extend(CaseCode(dimension=dimension, code=c) for c in _value(data, name))
        else:
            setattr(case, name, getattr(data, name))
    if "safe_phone" in changed:
        case.safe_hash = number_hash(case.safe_phone) if case.safe_phone else None

    reroute = new_area or bool(_ROUTING_INPUTS & set(changed))
    if reroute:
        if place is None:
            place = _stored_place(case)
        decision = decide(
            place, needs=set(data.needs), risk=data.risk, age_band=data.survivor_age_band
        )
        case.routing = routing_record(decision)
        case.commune_code = (
            decision.place.commune_codes[0] if decision.place.commune_codes else None
        )
        case.district_code = (
            decision.place.district_codes[0] if decision.place.district_codes else None
        )
        if case.consent_referral and not case.referrals and decision.primary is not None:
            refer_routed(case)
    elif case.consent_referral and not case.referrals and (case.routing or {}).get("chain"):
        decision = decide(
            _stored_place(case),
            needs=set(data.needs),
            risk=data.risk,
            age_band=data.survivor_age_band,
        )
        if decision.primary is not None:
            case.routing = routing_record(decision)
            refer_routed(case)

    names = [FIELDS[n] for n in changed]
    if new_area and (case.commune_code, case.district_code) != before_place:
        names.append("area")
    if names:
        record_event(user, "case.update", "case", case.reference, {"fields": sorted(names)})
    db.session.flush()
    return sorted(names)


def _stored_place(case: Case) -> object | None:
    try:
        if case.commune_code:
            return place_from_codes(commune_code=case.commune_code)
        if case.district_code:
            return place_from_codes(district_code=case.district_code)
    except PlaceCodeError:
        return None
    return None
