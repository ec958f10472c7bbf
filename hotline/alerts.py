"""Alerts to service points: their text, acknowledgement (SMS reply, signed link) and the
escalation chain.

An alert carries the case reference exactly as the API shows it, the place, urgency and
needs, and a signed link — never a name, a phone number or the story. The SMS flow asks
:func:`try_sms_acknowledgement` first, so a duty social worker's "OK <reference>" never
starts a survivor conversation.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import exists, func, select, update

from hotline.audit import record_event
from hotline.cases import refer
from hotline.outbox import add_work
from hotline.referrals import acknowledge
from models import (
    Alert,
    Case,
    CaseCode,
    CommuneMerge,
    District,
    NewCommune,
    OldCommune,
    Referral,
    ServicePoint,
    db,
)
from models.types import utcnow
from routing.select import SERVICE_NAMES

log = logging.getLogger(__name__)

ACK_PATH = "/a/"
ACK_SALT = "referral-ack"
#: How long the link in an alert SMS acknowledges the referral.
ACK_LINK_MAX_AGE = timedelta(days=7)

NOTIFY_EXHAUSTED_JOB = "hotline.jobs.alerts.notify_escalation_exhausted"
NOTIFY_COMMITTEE_JOB = "hotline.jobs.alerts.notify_commune_committee"


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


# --- acknowledgement by SMS reply -------------------------------------------------------

_REF_IN_TEXT = re.compile(r"QN\s*\d{4}\s*-?\s*[0-9A-Z]{5}")
_ACK_RE = re.compile(r"^\s*(?:OK|NHAN)\b[\s:.,;-]*(?P<ref>[A-Z0-9][A-Z0-9 -]*)?\s*[.!]*\s*$")


def _plain(text: str) -> str:
    """Upper case without diacritics ("Nhận" → "NHAN", "đ" → "D")."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c)).upper()


def _ref_key(text: str) -> str:
    """A reference reduced to letters and digits, with easily confused letters mapped the
    way the reference alphabet (Crockford base 32) reads them."""
    key = re.sub(r"[^A-Z0-9]", "", text.upper())
    head, tail = key[:2], key[2:]
    return head + tail.translate(str.maketrans("OIL", "011"))


def _points_with_alert_phone(e164: str) -> list[ServicePoint]:
    return list(
        db.session.scalars(
            select(ServicePoint).where(ServicePoint.alert_phone == e164, ServicePoint.active)
        )
    )


def try_sms_acknowledgement(from_e164: str, body: str) -> str | None:
    """The reply text when this SMS acknowledges (or tries to acknowledge) an alert, else
    None so the message is handled as a caller's.

    Only a message from a service point's ``alert_phone`` that reads ``OK <reference>`` or
    ``NHẬN <reference>`` (any case, diacritics optional) counts. It acknowledges that
    case's referrals to the points with this phone; the caller of this function commits.
    """
    match = _ACK_RE.match(_plain(body or ""))
    if not match or not from_e164:
        return None
    points = _points_with_alert_phone(from_e164)
    if not points:
        return None
    with force_locale("vi"):
        raw = (match.group("ref") or "").strip()
        if not raw:
            return _("Reply OK and the case code to acknowledge, e.g. OK QN2611-7K3FX.")
        found = _REF_IN_TEXT.search(raw)
        key = _ref_key(found.group(0) if found else raw)
        referrals = [
            r
            for r in db.session.scalars(
                select(Referral)
                .join(Case)
                .where(Referral.service_point_id.in_([p.id for p in points]))
                .where(Case.reference.in_(_reference_candidates(key)))
                .order_by(Referral.id)
            )
        ]
        if not referrals:
            return _(
                "No case %(reference)s is waiting for this phone. Check the code and reply "
                "OK and the case code.",
                reference=raw[:20],
            )
        reference = referrals[0].case.reference
        first = [acknowledge(r, via="sms") for r in referrals]
        if any(first):
            return _("Acknowledged: case %(reference)s. Thank you.", reference=reference)
        return _("Case %(reference)s was already acknowledged.", reference=reference)


def _reference_candidates(key: str) -> list[str]:
    """References as stored (``QN2611-7K3FX``) that the reduced ``key`` may stand for."""
    if len(key) == 11 and key.startswith("QN"):
        return [f"{key[:6]}-{key[6:]}"]
    return [key]


# --- escalation ---------------------------------------------------------------------------


def provincial_centre(exclude: set[str] | None = None) -> ServicePoint | None:
    """The province-wide social work centre (the end of every chain)."""
    return db.session.scalar(
        select(ServicePoint)
        .where(
            ServicePoint.kind == "social_work_center",
            ServicePoint.commune_code.is_(None),
            ServicePoint.district_code.is_(None),
            ServicePoint.active,
            ServicePoint.code.not_in(sorted(exclude or ())),
        )
        .order_by(ServicePoint.is_sample, ServicePoint.code)
    )


def is_police_referral(referral: Referral) -> bool:
    """The parallel alert to the police in immediate danger; it does not drive the chain."""
    routing = referral.case.routing or {}
    code = referral.service_point.code
    return code == routing.get("police") and code not in routing.get("chain", [])


def next_point(case: Case) -> ServicePoint | None:
    """The next point of the routing decision's fallback chain not yet alerted, then the
    provincial centre; None when every one has been."""
    referred = {r.service_point.code for r in case.referrals}
    for code in (case.routing or {}).get("chain", []):
        if code in referred:
            continue
        point = db.session.scalar(
            select(ServicePoint).where(ServicePoint.code == code, ServicePoint.active)
        )
        if point is not None:
            return point
    return provincial_centre(exclude=referred)


def alert_not_delivered(alert: Alert, code: str) -> None:
    """An alert that will not reach its point (the provider refused it, retries ran out,
    or the carrier reported it undelivered): flag it for administrators and move the
    chain on at once, since an unreachable point must not hold the case until the
    deadline. In the caller's transaction."""
    alert.error_code = (code or alert.error_code or "failed")[:10]
    referral = alert.referral
    if referral.acknowledged_at is None and alert.escalated_at is None:
        now = utcnow()
        if alert.escalate_at is None or alert.escalate_at > now:
            alert.escalate_at = now
    record_event(
        "system",
        "alert.failed",
        "alert",
        alert.id,
        {"code": alert.error_code, "case": referral.case.reference, "referral": referral.id},
    )


def check_escalations(now: datetime | None = None, limit: int = 100) -> int:
    """Escalate every alert past its deadline whose referral nobody acknowledged."""
    now = now or utcnow()
    due = list(
        db.session.scalars(
            select(Alert.id)
            .join(Referral, Alert.referral_id == Referral.id)
            .where(
                Alert.escalate_at <= now,
                Alert.escalated_at.is_(None),
                Referral.acknowledged_at.is_(None),
            )
            .order_by(Alert.escalate_at)
            .limit(limit)
        )
    )
    db.session.rollback()
    done = 0
    for alert_id in due:
        if escalate(alert_id, now):
            done += 1
    return done


def escalate(alert_id: int, now: datetime | None = None) -> bool:
    """Take one overdue alert to the next step, in one transaction; False when another
    run or an acknowledgement got there first."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(Alert)
        .where(
            Alert.id == alert_id,
            Alert.escalated_at.is_(None),
            Alert.escalate_at.is_not(None),
            Alert.escalate_at <= now,
        )
        .values(escalated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        return False
    alert = db.session.get(Alert, alert_id)
    referral = alert.referral
    case = referral.case
    if referral.acknowledged_at is not None:
        db.session.rollback()
        return False
    point = referral.service_point
    if is_police_referral(referral):
        record_event(
            "system",
            "referral.unacknowledged",
            "case",
            case.reference,
            {"point": point.code, "alert": alert.id},
        )
        db.session.commit()
        return True
    chain_referrals = [r for r in case.referrals if not is_police_referral(r)]
    if any(r.acknowledged_at is not None for r in chain_referrals):
        record_event(
            "system",
            "case.escalation_stopped",
            "case",
            case.reference,
            {"point": point.code, "alert": alert.id},
        )
        db.session.commit()
        return True
    target = next_point(case)
    if target is None:
        record_event(
            "system",
            "case.escalation_exhausted",
            "case",
            case.reference,
            {"point": point.code, "alert": alert.id},
        )
        add_work(
            NOTIFY_EXHAUSTED_JOB,
            {"case_id": case.id},
            queue="alerts",
            dedupe_key=f"exhausted:{case.id}",
        )
        db.session.commit()
        log.warning("case %s: escalation chain exhausted", case.id)
        return True
    step = max(r.step for r in case.referrals) + 1
    new = refer(
        case,
        target,
        step=step,
        reason=f"escalation: {point.code} did not acknowledge in time",
    )
    record_event(
        "system",
        "case.escalate",
        "case",
        case.reference,
        {"from": point.code, "to": target.code, "step": step, "referral": new.id},
    )
    db.session.commit()
    log.info("alert %s escalated to referral %s", alert.id, new.id)
    return True


# --- commune People's Committee notification (Law 13/2022/QH15) ------------------------


def commune_committee(commune_code: str | None) -> ServicePoint | None:
    """The commune People's Committee contact from the directory (kind commune_committee)."""
    if not commune_code:
        return None
    return db.session.scalar(
        select(ServicePoint)
        .where(
            ServicePoint.kind == "commune_committee",
            ServicePoint.commune_code == commune_code,
            ServicePoint.active,
        )
        .order_by(ServicePoint.code)
    )


def queue_commune_notifications(now: datetime | None = None, limit: int = 100) -> int:
    """Queue the legally required notice for new domestic-violence cases (once each)."""
    if not current_app.config.get("COMMUNE_NOTIFICATION", True):
        return 0
    now = now or utcnow()
    is_dv = exists().where(
        CaseCode.case_id == Case.id,
        CaseCode.dimension == "context",
        CaseCode.code == "domestic_violence",
    )
    cases = list(
        db.session.scalars(
            select(Case)
            .where(
                Case.commune_notified_at.is_(None),
                Case.created_at >= now - timedelta(days=7),
                Case.commune_code.is_not(None),
                is_dv,
            )
            .order_by(Case.id)
            .limit(limit)
        )
    )
    for case in cases:
        case.commune_notified_at = now
        committee = commune_committee(case.commune_code)
        if committee is None or not committee.alert_phone:
            record_event(
                "system",
                "case.commune_committee_missing",
                "case",
                case.reference,
                {"commune": case.commune_code},
            )
            continue
        add_work(
            NOTIFY_COMMITTEE_JOB,
            {"case_id": case.id},
            queue="alerts",
            dedupe_key=f"committee:{case.id}",
        )
    db.session.commit()
    return len(cases)
