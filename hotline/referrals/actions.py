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
from hotline.referrals.chain import LIVE, is_parallel, move_on
from hotline.tasks import open_task
from models import Alert, Case, Referral, ServicePoint, User, db
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


#: Why a point declines (DESIGN.md section 12).
DECLINE_REASONS = ("no_capacity", "out_of_area", "not_our_service", "unreachable", "other")
#: What became of a referral the point took on.
OUTCOMES = ("service_received", "not_reached", "refused_by_survivor", "referred_elsewhere")
#: Statuses in which a point may still accept or decline.
OPEN = ("pending", "acknowledged")
MAX_DECLINE_NOTE = 2_000
MAX_FREE_BEDS = 10_000


class NotAllowed(Exception):
    """The referral's status no longer allows this (declined, expired, closed …)."""

    def __init__(self, referral: Referral) -> None:
        super().__init__(referral.status)
        self.status = referral.status


def accept(referral: Referral, user: User | None = None, *, via: str = "inbox") -> None:
    """Take the case on (acknowledging it if nobody has yet); a shelter referral that needs
    shelter takes one of the point's beds until its outcome."""
    if referral.status not in OPEN:
        raise NotAllowed(referral)
    acknowledge(referral, via=via, user=user)
    referral.status = "accepted"
    referral.accepted_at = utcnow()
    _take_bed(referral)
    record_event(user or via, "referral.accept", "referral", referral.id, {"via": via})


def decline(
    referral: Referral,
    user: User | None = None,
    reason: object = "other",
    note: object = None,
    *,
    via: str = "inbox",
) -> Referral | None:
    """Decline with a coded reason (and optional words, kept encrypted). A chain referral
    moves the case on at once to the next point (see :mod:`hotline.referrals.chain`); the
    new referral, or None. Raises ValidationError or :class:`NotAllowed`."""
    errors: dict[str, list[str]] = {}
    if reason not in DECLINE_REASONS:
        errors["reason"] = [_("Choose why the referral is declined.")]
    if note is not None and (not isinstance(note, str) or len(note) > MAX_DECLINE_NOTE):
        errors["note"] = [_("A note is text of at most %(n)d characters.", n=MAX_DECLINE_NOTE)]
    if errors:
        raise ValidationError(errors)
    if referral.status not in OPEN:
        raise NotAllowed(referral)
    acknowledge(referral, via=via, user=user)  # stops its alert's escalation
    referral.status = "declined"
    referral.decline_code = reason
    referral.decline_reason = (note or "").strip() or None
    referral.ended_at = utcnow()
    record_event(
        user or via, "referral.decline", "referral", referral.id, {"reason": reason, "via": via}
    )
    case = referral.case
    if not is_parallel(referral):
        return move_on(case, referral, "declined")
    if not any(r.status in LIVE for r in case.referrals):
        # Nobody has the case any more: an operator takes it on.
        open_task("referral_declined", f"case:{case.id}", case_id=case.id)
    return None


def record_outcome(
    referral: Referral,
    user: User | None,
    services_received: Sequence[str],
    notes: str | None = None,
    *,
    outcome: object = None,
    via: str = "inbox",
) -> None:
    """What became of the referral, and which services the survivor received (these feed
    the plan indicators, whichever way the outcome was recorded). Raises
    ValidationError, or :class:`NotAllowed` for a declined or expired referral."""
    unknown = [s for s in services_received if s not in SERVICES]
    errors: dict[str, list[str]] = {}
    if unknown:
        errors["services_received"] = [_("Unknown services: %(codes)s.", codes=", ".join(unknown))]
    if outcome is None:
        outcome = "service_received" if services_received else None
    elif outcome not in OUTCOMES:
        errors["outcome"] = [_("Choose what happened.")]
    elif outcome == "service_received" and not services_received:
        errors["services_received"] = [_("Say which services the survivor received.")]
    if errors:
        raise ValidationError(errors)
    if referral.status in ("declined", "expired"):
        raise NotAllowed(referral)
    if referral.acknowledged_at is None:
        acknowledge(referral, via=via if via in ACK_CHANNELS else "inbox", user=user)
    referral.services_received = sorted(set(services_received))
    referral.outcome = outcome
    referral.outcome_at = utcnow()
    referral.outcome_notes = notes or None
    referral.status = "closed"
    _release_bed(referral)
    record_event(
        user or "system",
        "referral.outcome",
        "referral",
        referral.id,
        {"services": referral.services_received, "outcome": outcome, "via": via},
    )


def _needs_shelter(referral: Referral) -> bool:
    point = referral.service_point
    return "shelter" in referral.case.coded("need") and point.capacity is not None


def _take_bed(referral: Referral) -> None:
    if referral.holds_bed or not _needs_shelter(referral):
        return
    point = referral.service_point
    point.occupancy = min(point.capacity, (point.occupancy or 0) + 1)
    point.beds_updated_at = utcnow()
    referral.holds_bed = True


def _release_bed(referral: Referral) -> None:
    if not referral.holds_bed:
        return
    point = referral.service_point
    point.occupancy = max(0, (point.occupancy or 0) - 1)
    point.beds_updated_at = utcnow()
    referral.holds_bed = False


def set_free_beds(point: ServicePoint, free_beds: object, actor: User | str) -> None:
    """The shelter says how many beds are free now (in the caller's transaction).

    The capacity grows when more beds are free than it lists; a point without a capacity
    starts counting. Routing never picks a shelter with no free bed when shelter is needed.
    """
    if (
        isinstance(free_beds, bool)
        or not isinstance(free_beds, int)
        or not 0 <= free_beds <= MAX_FREE_BEDS
    ):
        raise ValidationError(
            {"free_beds": [_("Give the number of free beds, a whole number from 0.")]}
        )
    capacity = point.capacity if point.capacity is not None else free_beds
    if free_beds > capacity:
        capacity = free_beds
    point.capacity = capacity
    point.occupancy = capacity - free_beds
    point.beds_updated_at = utcnow()
    record_event(
        actor, "service_point.beds", "service_point", point.code, {"free_beds": free_beds}
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
