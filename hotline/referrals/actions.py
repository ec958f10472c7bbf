"""What a service point does with a referral: acknowledge, accept or decline, record the
outcome. Every channel (SMS reply, signed link, inbox, API) goes through these functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum

from flask_babel import gettext as _
from sqlalchemy import select, update

from hotline.audit import record_event
from hotline.errors import ValidationError
from hotline.tasks import open_task
from models import Alert, Case, Referral, User, db
from models.types import utcnow
from routing.codes import SERVICES

ACK_CHANNELS = ("sms", "link", "inbox", "api")


def acknowledge(referral: Referral, *, via: str, user: User | None = None) -> bool:
    """Record the first acknowledgement; later ones change nothing and return False.

    The conditional UPDATE makes the first acknowledgement win even when two arrive at
    once (an SMS reply and a click); acknowledging stops the escalation chain, which
    only escalates alerts whose referral is still unacknowledged.
    """
    if via not in ACK_CHANNELS:
        raise ValueError(f"unknown acknowledgement channel {via!r}")
    now = utcnow()
    result = db.session.execute(
        update(Referral)
        .where(Referral.id == referral.id, Referral.acknowledged_at.is_(None))
        .values(
            acknowledged_at=now,
            acknowledged_via=via,
            acknowledged_by_id=user.id if user else None,
            status="acknowledged",
        )
        .execution_options(synchronize_session=False)
    )
    first = result.rowcount == 1
    db.session.refresh(referral)
    if first:
        db.session.execute(
            update(Alert)
            .where(Alert.referral_id == referral.id, Alert.escalated_at.is_(None))
            .values(escalate_at=None)
            .execution_options(synchronize_session=False)
        )
        # The acknowledgement statistics of the case's day change (a direct UPDATE: the
        # statistics flush hook does not see it).
        from hotline.stats.rollup import mark_instants_dirty

        mark_instants_dirty([referral.case.created_at])
        record_event(
            user or "system",
            "referral.acknowledge",
            "referral",
            referral.id,
            {"via": via, "case": referral.case.reference},
        )
    return first


def accept(referral: Referral, user: User) -> None:
    """Take the case on (acknowledging it if nobody has yet)."""
    acknowledge(referral, via="inbox", user=user)
    if referral.status in ("pending", "acknowledged"):
        referral.status = "accepted"
        record_event(user, "referral.accept", "referral", referral.id)


def decline(referral: Referral, user: User, reason: str) -> None:
    """Decline with a reason (kept encrypted); the case goes back to the hotline."""
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the referral is declined.")]})
    acknowledge(referral, via="inbox", user=user)
    referral.status = "declined"
    referral.decline_reason = reason.strip()
    record_event(user, "referral.decline", "referral", referral.id)
    case = referral.case
    live = [r for r in case.referrals if r.status in ("pending", "acknowledged", "accepted")]
    if not live:
        # No point has the case any more: an operator takes it on.
        open_task("referral_declined", f"case:{case.id}", case_id=case.id)


def record_outcome(
    referral: Referral,
    user: User | None,
    services_received: Sequence[str],
    notes: str | None = None,
) -> None:
    """Which services the survivor received (feeds the plan indicators)."""
    unknown = [s for s in services_received if s not in SERVICES]
    if unknown:
        raise ValidationError(
            {"services_received": [_("Unknown services: %(codes)s.", codes=", ".join(unknown))]}
        )
    if referral.acknowledged_at is None:
        acknowledge(referral, via="inbox", user=user)
    referral.services_received = sorted(set(services_received))
    referral.outcome_at = utcnow()
    referral.outcome_notes = notes or None
    referral.status = "closed"
    record_event(
        user or "system",
        "referral.outcome",
        "referral",
        referral.id,
        {"services": referral.services_received},
    )


class _Keep(Enum):
    KEEP = "keep"


#: Leave a perpetrator outcome field as it is (it was not given).
KEEP = _Keep.KEEP
PERPETRATOR_FIELDS = ("prosecuted", "counselled")
#: The outcome form's choices: yes / no / not known (stored as NULL).
_FORM_CHOICES: dict[str, bool | None] = {"yes": True, "no": False, "unknown": None}


def perpetrator_outcome_from_form(form: Mapping[str, str]) -> dict[str, bool | None]:
    """The outcome form's ``perpetrator_<key>`` choices (yes / no / unknown); a field not
    sent is left out; raise ValidationError on anything else."""
    out: dict[str, bool | None] = {}
    errors: dict[str, list[str]] = {}
    for name in PERPETRATOR_FIELDS:
        raw = form.get(f"perpetrator_{name}")
        if not raw:
            continue
        if raw in _FORM_CHOICES:
            out[name] = _FORM_CHOICES[raw]
        else:
            errors[f"perpetrator_{name}"] = [_("Choose yes, no or not known.")]
    if errors:
        raise ValidationError(errors)
    return out


def record_perpetrator_outcome(
    case: Case,
    prosecuted: bool | _Keep | None = KEEP,
    counselled: bool | _Keep | None = KEEP,
    *,
    user: User | None = None,
) -> list[str]:
    """Store whether the perpetrator was criminally prosecuted / received counselling
    (feeds indicator PERPETRATOR_COUNSELLING); None means not known, KEEP leaves a field
    as it is. Adds to the current transaction; returns the fields that changed. The audit
    event names the fields only, never their values."""
    changed = []
    for name, value in (("prosecuted", prosecuted), ("counselled", counselled)):
        attr = f"perpetrator_{name}"
        if value is KEEP or getattr(case, attr) is value:
            continue
        setattr(case, attr, value)
        changed.append(name)
    if changed:
        record_event(
            user or "system",
            "case.perpetrator_outcome",
            "case",
            case.reference,
            {"fields": changed},
        )
    return changed


def referral_for_user(referral_id: int, user: User) -> Referral | None:
    """The referral if it belongs to one of the user's service points, else None."""
    point_ids = [p.id for p in user.service_points]
    if not point_ids:
        return None
    return db.session.scalar(
        select(Referral).where(
            Referral.id == referral_id, Referral.service_point_id.in_(point_ids)
        )
    )
