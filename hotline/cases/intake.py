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
from hotline.cases.body import CaseBody
from hotline.directory.decisions import decide
from hotline.errors import ValidationError
from hotline.privacy import number_hash
from hotline.referrals.create import record_earlier_transfers, refer
from hotline.validation import validate
from models import Case, CaseCode, Contact, Message, ServicePoint, User, db
from models.types import utcnow
from routing.resolve import resolve_place
from routing.select import Decision, PlaceCodeError, place_from_codes

#: Crockford base32 without I, L, O, U: easy to read out and type back from an SMS.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


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


def parse_case_body(body: Any) -> CaseInput:
    """Validate an API-style body (:class:`CaseBody`); raise :class:`ValidationError` with
    every field's problem."""
    data = validate(CaseBody, body)
    return CaseInput(
        channel=data.channel,
        risk=data.risk,
        area=data.area,
        contact_sid=data.contact_sid,
        survivor_sex=data.survivor.sex,
        survivor_age_band=data.survivor.age_band,
        violence_types=data.violence_types,
        contexts=data.contexts,
        perpetrator_relationship=data.perpetrator.relationship,
        perpetrator_sex=data.perpetrator.sex,
        perpetrator_age_band=data.perpetrator.age_band,
        needs=data.needs,
        consent_referral=data.consent.referral,
        consent_follow_up=data.consent.follow_up,
        consent_reporting=data.consent.reporting,
        safe_channel=data.safe_contact.channel,
        safe_phone=data.safe_contact.phone,
        safe_hours=data.safe_contact.hours,
        notes=data.notes or None,
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


#: Reason texts by their parts (a few hundred kinds of decision; the webhook routes every
#: SMS naming a place, and rendering both languages each time was a tenth of its time).
_reasons: dict[str, dict[str, str]] = {}
MAX_REASONS = 2048


def _reason_texts(decision: Decision) -> dict[str, str]:
    key = repr(decision.reason_parts)
    texts = _reasons.get(key)
    if texts is None:
        texts = {}
        for lang in ("vi", "en"):
            with force_locale(lang):
                texts[lang] = decision.reason(_)
        if len(_reasons) >= MAX_REASONS:
            _reasons.clear()
        _reasons[key] = texts
    return dict(texts)


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


def refer_routed(
    case: Case,
    *,
    override: str | None = None,
    override_reason: str | None = None,
) -> None:
    """Refer the case to its recorded routing decision's point (or the operator's choice
    from its chain) and, in danger, to the police point too; a survivor under 18 also to
    the provincial centre on the child-protection path. Alerts are queued in the same
    transaction. Points are found by the codes the decision recorded, so the case goes
    where the answer to the caller said, whenever it is made."""
    record = case.routing or {}
    chain = list(record.get("chain") or [])
    police, child = record.get("police"), record.get("child_protection")
    codes = [*chain, *[c for c in (police, child) if c]]
    points = {
        p.code: p
        for p in db.session.scalars(select(ServicePoint).where(ServicePoint.code.in_(codes)))
    }
    primary_code = override or chain[0]
    refer(
        case,
        points[primary_code],
        step=0,
        reason=record["reason"]["en"],
        chosen_by="operator" if override else "routing",
        override_reason=override_reason if override else None,
    )
    if police and police != primary_code and police in points:
        refer(case, points[police], step=0, reason="police")
    if child and child != primary_code and child in points and points[child].active:
        refer(case, points[child], step=0, reason="child_protection")
    case.status = "referred"


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
    routing: dict[str, Any] | None = None,
) -> tuple[Case, Decision | None]:
    """Store a case, route it and, with referral consent, refer it and queue the alerts.

    ``place`` is an already-resolved place (a ``PlaceMatch`` from the SMS or voice flow);
    otherwise ``data.area`` is resolved. ``routing`` is a decision already made and
    recorded (:func:`routing_record`; the SMS journal): it is used as it is, not made again
    (the decision returned is then None). ``contact`` is the call or conversation the case
    comes from when the caller already holds it (else ``data.contact_sid`` names it).
    Runs in the caller's transaction; the caller commits (one commit: case, referral,
    alert and outbox rows together, or nothing).
    """
    decision = None
    if routing is None:
        if place is None:
            place = resolve_area(data.area)
        decision = decide(
            place, needs=set(data.needs), risk=data.risk, age_band=data.survivor_age_band
        )
        routing = routing_record(decision)
    if contact is None and data.contact_sid:
        contact = db.session.scalar(
            select(Contact).where(Contact.provider_sid == data.contact_sid)
        )
        if contact is None:
            raise ValidationError({"contact_sid": [_("No call or message has this id.")]})

    chain_codes = list(routing.get("chain") or [])
    override = None
    if data.override_code:
        if data.override_code not in chain_codes and data.override_code != routing.get("police"):
            raise ValidationError({"override": [_("Choose a point from the routing decision.")]})
        if not (data.override_reason or "").strip():
            raise ValidationError({"override_reason": [_("Say why another point is chosen.")]})
        override = data.override_code

    case = Case(
        reference=new_reference(),
        contact_id=contact.id if contact else None,
        channel=data.channel,
        commune_code=(routing.get("commune_codes") or [None])[0],
        district_code=(routing.get("district_codes") or [None])[0],
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
        safe_hash=number_hash(data.safe_phone) if data.safe_phone else None,
        safe_hours=data.safe_hours,
        notes=data.notes,
        routing=routing,
        status="referred" if data.consent_referral and chain_codes else "open",
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

    if data.consent_referral and chain_codes:
        refer_routed(case, override=override, override_reason=data.override_reason)
    # A caller the operator already handed to a point by phone: that point has the case.
    record_earlier_transfers(case)
    record_event(
        actor,
        "case.create",
        "case",
        case.reference,
        {"channel": case.channel, "risk": case.risk, "referred": case.status == "referred"},
    )
    return case, decision
