"""Who may see which case, and what of it: one place for the screens and the API.

- operator: every case, in full (they take the calls and fill the intake);
- social_worker: only cases referred to one of their service points, and only the minimum
  to act (reference, place, risk, needs, the routing reason, safe-contact guidance);
- manager and admin: no case at all (aggregates and the directory are theirs).

Anything out of scope is treated as missing (404), so a reference cannot be probed.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, func, select

from hotline.audit import record_event
from hotline.cases.messages import thread
from hotline.cases.notes import notes_of
from models import Case, CaseNote, Contact, Message, Referral, ServicePoint, User, db
from routing.places import load_gazetteer

FULL_ROLES = ("operator",)


def point_ids(user: User) -> list[int]:
    return [p.id for p in user.service_points]


def visible_case(reference: str, user: User) -> Case | None:
    """The case if ``user``'s role and scope allow seeing it, else None."""
    if user.role == "operator":
        return db.session.scalar(select(Case).where(Case.reference == reference))
    if user.role == "social_worker":
        ids = point_ids(user)
        if not ids:
            return None
        return db.session.scalar(
            select(Case).where(
                Case.reference == reference,
                exists().where(Referral.case_id == Case.id, Referral.service_point_id.in_(ids)),
            )
        )
    return None


def record_view(user: User, case: Case, via: str) -> None:
    record_event(user, "case.view", "case", case.reference, {"via": via})


def place_label(case: Case) -> str:
    g = load_gazetteer()
    if case.commune_code and (commune := g.commune(case.commune_code)):
        return commune.full_name
    if case.district_code and (district := g.district(case.district_code)):
        return district.full_name
    return _("Unknown place")


def point_json(point: Any) -> dict[str, Any] | None:
    """A service point as the API shows it (``phone`` is the public one, never the duty one)."""
    if point is None:
        return None
    return {"code": point.code, "name": point.name, "phone": point.phone or None}


def _points_by_code(codes: list[str]) -> dict[str, ServicePoint]:
    if not codes:
        return {}
    return {
        p.code: p
        for p in db.session.scalars(select(ServicePoint).where(ServicePoint.code.in_(codes)))
    }


def routing_reason(case: Case, lang: str) -> str:
    reason = (case.routing or {}).get("reason") or {}
    return reason.get(lang) or reason.get("vi") or ""


def referral_json(referral: Referral) -> dict[str, Any]:
    return {
        "id": referral.id,
        "case_reference": referral.case.reference,
        "service_point": point_json(referral.service_point),
        "status": referral.status,
        "urgency": referral.urgency,
        "created_at": iso(referral.created_at),
        "acknowledged_at": iso(referral.acknowledged_at),
    }


def iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def case_json(case: Case, user: User, lang: str) -> dict[str, Any]:
    """The case as ``user`` may see it (the caller checked :func:`visible_case`)."""
    routing = case.routing or {}
    chain = list(routing.get("chain") or [])
    child = routing.get("child_protection")
    points = _points_by_code([*chain, *([child] if child else [])])
    minimum: dict[str, Any] = {
        "reference": case.reference,
        "status": case.status,
        "created_at": iso(case.created_at),
        "area": {
            "commune_code": case.commune_code,
            "district_code": case.district_code,
            "label": place_label(case),
        },
        "risk": case.risk,
        "needs": case.coded("need"),
        "survivor": {"sex": case.survivor_sex, "age_band": case.survivor_age_band},
        "routing": {
            "service_point": point_json(points.get(chain[0])) if chain else None,
            "reason": routing_reason(case, lang),
            "alternates": [point_json(points[c]) for c in chain[1:] if c in points],
            "child_protection": point_json(points.get(child)) if child else None,
            "instructions": list(routing.get("instructions") or []),
        },
        "safe_contact": {
            "channel": case.safe_channel,
            "hours": case.safe_hours,
            "follow_up_allowed": case.consent_follow_up,
        },
    }
    if user.role == "social_worker":
        ids = set(point_ids(user))
        minimum["referrals"] = [
            referral_json(r) for r in case.referrals if r.service_point_id in ids
        ]
        return minimum
    minimum.update(
        {
            "channel": case.channel,
            "violence_types": case.coded("violence_type"),
            "contexts": case.coded("context"),
            "perpetrator": {
                "relationship": case.perpetrator_relationship,
                "sex": case.perpetrator_sex,
                "age_band": case.perpetrator_age_band,
            },
            "consent": {
                "referral": case.consent_referral,
                "follow_up": case.consent_follow_up,
                "reporting": case.consent_reporting,
            },
            "intake_notes": case.notes,
            "legal_hold": case.legal_hold,
            "purged": case.purged_at is not None,
            "referrals": [referral_json(r) for r in case.referrals],
            "notes": [note_json(n) for n in notes_of(case)],
            "messages": [message_json(m) for m in thread(case)],
        }
    )
    minimum["safe_contact"]["phone"] = case.safe_phone
    return minimum


def note_json(note: CaseNote) -> dict[str, Any]:
    author = db.session.get(User, note.author_id) if note.author_id else None
    return {
        "id": note.id,
        "author": author.username if author else None,
        "created_at": iso(note.created_at),
        "text": note.text,
    }


def message_json(message: Message) -> dict[str, Any]:
    return {
        "direction": message.direction,
        "at": iso(message.created_at),
        "text": message.body,
        "status": message.status,
    }


def repeat_count(contact: Contact) -> int:
    """Earlier contacts from the same number (by keyed hash: nothing is decrypted)."""
    if not contact.caller_hash:
        return 0
    return db.session.scalar(
        select(func.count(Contact.id)).where(
            Contact.caller_hash == contact.caller_hash, Contact.id < contact.id
        )
    )
