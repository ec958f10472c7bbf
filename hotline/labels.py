"""Words for the codes of the contract, in the active language (``{{ code|label('risk') }}``).

Codes stay codes in the database and the API; only people see these labels.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_datetime, gettext
from flask_babel import lazy_gettext as _l

from routing.select import SERVICE_NAMES

LABELS: dict[str, dict[str, object]] = {
    "channel": {
        "voice": _l("Call"),
        "sms": _l("SMS"),
        "walk_in": _l("Walk-in"),
        "other": _l("Other"),
    },
    "sex": {"female": _l("Female"), "male": _l("Male"), "unknown": _l("Not known")},
    "age_band": {
        "0-11": _l("0–11 years"),
        "12-17": _l("12–17 years"),
        "18-25": _l("18–25 years"),
        "26-40": _l("26–40 years"),
        "41-60": _l("41–60 years"),
        "61+": _l("61 years or older"),
        "unknown": _l("Not known"),
    },
    "violence_type": {
        "rape": _l("Rape"),
        "sexual_assault": _l("Sexual assault"),
        "physical_assault": _l("Physical assault"),
        "forced_marriage": _l("Forced marriage"),
        "denial_of_resources": _l("Denial of resources, opportunities or services"),
        "psychological_abuse": _l("Psychological or emotional abuse"),
        "non_gbv": _l("Not gender-based violence"),
    },
    "context": {
        "domestic_violence": _l("Domestic violence"),
        "trafficking": _l("Trafficking"),
        "child_abuse": _l("Child abuse"),
        "sexual_harassment": _l("Sexual harassment"),
    },
    "risk": {
        "immediate": _l("Immediate danger"),
        "high": _l("High"),
        "medium": _l("Medium"),
        "low": _l("Low"),
    },
    "safe_channel": {"sms": _l("SMS"), "call": _l("Phone call"), "none": _l("Do not contact")},
    "referral_status": {
        "pending": _l("Waiting for acknowledgement"),
        "acknowledged": _l("Acknowledged"),
        "accepted": _l("Accepted"),
        "declined": _l("Declined"),
        "closed": _l("Closed with outcome"),
    },
    "role": {
        "operator": _l("Hotline operator"),
        "social_worker": _l("Social worker"),
        "manager": _l("Manager"),
        "admin": _l("Administrator"),
    },
    "kind": {
        "trusted_address": _l("Trusted address"),
        "shelter": _l("Shelter"),
        "social_work_center": _l("Social work centre"),
        "police": _l("Police"),
        "health": _l("Health"),
        "legal_aid": _l("Legal aid"),
        "commune_committee": _l("Commune people's committee"),
    },
    "relationship": {
        "husband": _l("Husband"),
        "wife": _l("Wife"),
        "former_partner": _l("Former husband, wife or partner"),
        "partner": _l("Boyfriend, girlfriend or partner"),
        "parent": _l("Parent or step-parent"),
        "child": _l("Son or daughter"),
        "other_family": _l("Other family member"),
        "in_law": _l("In-law"),
        "acquaintance": _l("Neighbour or acquaintance"),
        "employer": _l("Employer or colleague"),
        "teacher": _l("Teacher or carer"),
        "stranger": _l("Stranger"),
        "unknown": _l("Not known"),
    },
}


def label(code: object, dimension: str) -> str:
    """The label of ``code``; the code itself when it has none (never an empty cell)."""
    if dimension == "service":
        name = SERVICE_NAMES.get(str(code))
        return gettext(name) if name else str(code)
    text = LABELS.get(dimension, {}).get(str(code))
    return str(text) if text is not None else str(code)


def when(value: datetime | None) -> str:
    """A timestamp in the hotline's timezone and the active language's short format."""
    return format_datetime(value, "short") if value else "—"


def reason(decision) -> str:
    """A routing decision's reason in the active language."""
    return decision.reason(gettext)


def init_labels(app: Flask) -> None:
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["reason"] = reason
    app.jinja_env.filters["when"] = when
