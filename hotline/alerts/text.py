"""The SMS an alert sends to a service point's duty phone, and its signed acknowledgement
link.

An alert carries the case reference exactly as the API shows it, the place, urgency and
needs, and a signed link — never a name, a phone number or the story.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from models import (
    Alert,
    Case,
    CommuneMerge,
    District,
    NewCommune,
    OldCommune,
    db,
)
from routing.select import SERVICE_NAMES

log = logging.getLogger(__name__)


ACK_PATH = "/a/"
ACK_SALT = "referral-ack"
#: How long the link in an alert SMS lets its point act on the referral (DESIGN.md §12).
ACK_LINK_MAX_AGE = timedelta(days=14)


# --- signed acknowledgement links -------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=ACK_SALT)


def ack_token(referral_id: int) -> str:
    """A signed token naming one referral (expires after :data:`ACK_LINK_MAX_AGE`)."""
    return _serializer().dumps(referral_id)


def read_ack_token(token: str) -> int | None:
    """The referral id a valid, unexpired token names; None otherwise."""
    try:
        value = _serializer().loads(token, max_age=int(ACK_LINK_MAX_AGE.total_seconds()))
    except (SignatureExpired, BadSignature):
        return None
    return value if isinstance(value, int) else None


def ack_url(referral_id: int) -> str | None:
    """The link for the alert SMS; None when ``PUBLIC_BASE_URL`` is not configured."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    return f"{base}{ACK_PATH}{ack_token(referral_id)}" if base else None


# --- alert text ---------------------------------------------------------------------------


def urgency_word(risk: str) -> str:
    words = {
        "immediate": _("immediate danger"),
        "high": _("high"),
        "medium": _("medium"),
        "low": _("low"),
    }
    return words.get(risk, risk)


def former_districts(commune_code: str) -> list[District]:
    """The pre-2025 districts a 2025 commune was formed from, most of its communes first."""
    rows = db.session.execute(
        select(District, func.count())
        .join(OldCommune, OldCommune.district_code == District.code)
        .join(CommuneMerge, CommuneMerge.old_code == OldCommune.code)
        .where(CommuneMerge.new_code == commune_code)
        .group_by(District.code)
        .order_by(func.count().desc(), District.code)
    ).all()
    return [district for district, _count in rows]


def place_text(case: Case) -> str:
    """The current commune and its former district(s), by name (public administrative
    names, as staff still say them)."""
    commune = db.session.get(NewCommune, case.commune_code) if case.commune_code else None
    if commune is not None:
        districts = former_districts(commune.code)
        if districts:
            return _(
                "%(commune)s (former %(district)s)",
                commune=commune.full_name,
                district=", ".join(d.full_name for d in districts),
            )
        return commune.full_name
    district = db.session.get(District, case.district_code) if case.district_code else None
    return district.full_name if district else "Quảng Ninh"


def alert_text(alert: Alert) -> str:
    """The SMS for one alert, in the active language. No personal data by construction:
    only coded fields of the case, public place names and the signed link."""
    referral = alert.referral
    case = referral.case
    needs = ", ".join(_(SERVICE_NAMES[c]) for c in case.coded("need") if c in SERVICE_NAMES)
    fields = {
        "reference": case.reference,
        "place": place_text(case),
        "urgency": urgency_word(referral.urgency),
        "needs": needs or "-",
    }
    link = ack_url(referral.id)
    if link:
        text = _(
            "Case %(reference)s: %(place)s. Urgency: %(urgency)s. Needs: %(needs)s. "
            "Acknowledge: %(link)s or reply OK %(reference)s",
            link=link,
            **fields,
        )
    else:
        text = _(
            "Case %(reference)s: %(place)s. Urgency: %(urgency)s. Needs: %(needs)s. "
            "Reply OK %(reference)s to acknowledge.",
            **fields,
        )
    if alert.kind == "escalation":
        text = _("ESCALATED, not acknowledged in time. %(alert)s", alert=text)
    return text
