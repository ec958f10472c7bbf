"""Acting on an alert by SMS reply from the point's duty phone (DESIGN.md section 12):
``OK <reference>`` acknowledges, ``NHAN <reference>`` (or ``NHẬN``) accepts,
``TUCHOI <reference>`` (or ``TỪ CHỐI``) declines with reason ``other``. Each is answered
with one short confirmation.

The SMS flow asks :func:`try_sms_acknowledgement` first, so a duty social worker's reply
never starts a survivor conversation. Only a message from a point's ``alert_phone``
counts; from any other number it changes nothing.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.referrals.actions import NotAllowed, accept, acknowledge, decline
from models import (
    Case,
    Referral,
    ServicePoint,
    db,
)

log = logging.getLogger(__name__)


# --- acknowledgement by SMS reply -------------------------------------------------------

_REF_IN_TEXT = re.compile(r"QN\s*\d{4}\s*-?\s*[0-9A-Z]{5}")
_ACK_RE = re.compile(
    r"^\s*(?P<command>OK|NHAN|TU\s*CHOI)\b[\s:.,;-]*(?P<ref>[A-Z0-9][A-Z0-9 -]*)?\s*[.!]*\s*$"
)


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


def looks_like_acknowledgement(body: str) -> bool:
    """Whether this text reads as a staff reply to an alert (``OK``/``NHẬN``/``TỪ CHỐI``
    and a case code); only then can :func:`try_sms_acknowledgement` act on it."""
    # The commands start with O, N or T (also with their marks): most texts are ruled out
    # by their first letter, without folding the whole text.
    for char in body or "":
        if char.isspace() or unicodedata.combining(char):
            continue
        return _plain(char)[:1] in ("O", "N", "T") and _ACK_RE.match(_plain(body)) is not None
    return False


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
            return _(
                "Reply OK (seen), NHAN (accept) or TUCHOI (decline) and the case code, e.g. "
                "OK QN2611-7K3FX."
            )
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
        command = re.sub(r"\s", "", match.group("command"))
        if command == "NHAN":
            return _act(
                referrals, reference, accept, _("Accepted: case %(reference)s. Thank you.")
            )
        if command == "TUCHOI":
            return _act(
                referrals,
                reference,
                lambda r, **kw: decline(r, None, "other", **kw),
                _("Declined: case %(reference)s. The hotline will find another point."),
            )
        first = [acknowledge(r, via="sms") for r in referrals]
        if any(first):
            return _("Acknowledged: case %(reference)s. Thank you.", reference=reference)
        return _("Case %(reference)s was already acknowledged.", reference=reference)


def _act(referrals: list[Referral], reference: str, action, done: str) -> str:
    """Accept or decline the open referrals of the case to this phone's points."""
    acted = 0
    for referral in referrals:
        try:
            action(referral, via="sms")
            acted += 1
        except NotAllowed:
            continue
    if acted:
        return done % {"reference": reference}
    return _(
        "Case %(reference)s can no longer be changed by SMS (already decided).",
        reference=reference,
    )


def _reference_candidates(key: str) -> list[str]:
    """References as stored (``QN2611-7K3FX``) that the reduced ``key`` may stand for."""
    if len(key) == 11 and key.startswith("QN"):
        return [f"{key[:6]}-{key[6:]}"]
    return [key]
