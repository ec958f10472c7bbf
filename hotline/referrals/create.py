"""Referring a case to a service point: the referral and its alert, in one transaction."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.audit import record_event
from hotline.errors import ValidationError
from hotline.jobs.outbox import add_work
from models import Alert, CallLeg, Case, Referral, ServicePoint, User, db
from models.types import utcnow

SEND_ALERT_JOB = "alerts.send"


def escalation_delay(risk: str) -> timedelta:
    """How long an alert waits for acknowledgement before escalating."""
    seconds = current_app.config["ALERT_ESCALATE_AFTER_SECONDS"]
    return timedelta(seconds=seconds / 3 if risk == "immediate" else seconds)


def refer(
    case: Case,
    point: ServicePoint,
    *,
    step: int,
    reason: str | None,
    alert_kind: str | None = None,
    **kw,
) -> Referral:
    """Refer the case to one point and queue its alert (in the current transaction).

    The alert is a plain ``referral`` at step 0 and an ``escalation`` (its SMS says the
    previous point did not answer in time) later, unless ``alert_kind`` says otherwise —
    a case moved on after a decline is alerted as a plain referral."""
    referral = Referral(
        case=case, service_point=point, step=step, urgency=case.risk, reason=reason, **kw
    )
    alert = Alert(
        referral=referral,
        service_point_id=point.id,
        kind=alert_kind or ("referral" if step == 0 else "escalation"),
        to_phone=point.alert_phone,
        escalate_at=utcnow() + escalation_delay(case.risk),
    )
    db.session.add_all((referral, alert))
    db.session.flush()  # the alert's id, for the job
    add_work(
        SEND_ALERT_JOB,
        {"alert_id": alert.id},
        queue="alerts",
        dedupe_key=f"alert:{alert.id}",
        fresh=True,  # the alert was just created: nobody can have queued it yet
    )
    return referral


MAX_REFERRAL_NOTE = 2_000
_LIVE = ("pending", "acknowledged", "accepted")


def refer_by_hand(case: Case, code: object, note: object, user: User) -> Referral:
    """A referral an operator chooses (health care or legal aid as well as the routed
    point, say), alerted like a routed one; in the caller's transaction.

    Raises :class:`ValidationError` for an unknown or inactive point, one that has the
    case already, a case without referral consent, or an unusable note.
    """
    errors: dict[str, list[str]] = {}
    point = None
    if not isinstance(code, str) or not code.strip():
        errors["service_point"] = [_("Choose a service point.")]
    else:
        point = db.session.scalar(select(ServicePoint).where(ServicePoint.code == code.strip()))
        if point is None or not point.active:
            errors["service_point"] = [_("No active service point has this code.")]
        elif any(r.service_point_id == point.id and r.status in _LIVE for r in case.referrals):
            errors["service_point"] = [_("This point already has the case.")]
    if note is not None and (not isinstance(note, str) or len(note) > MAX_REFERRAL_NOTE):
        errors["note"] = [_("A note is text of at most %(n)d characters.", n=MAX_REFERRAL_NOTE)]
    if not case.consent_referral:
        errors["consent.referral"] = [
            _("The survivor has not agreed to a referral: record their consent first.")
        ]
    if errors:
        raise ValidationError(errors)
    referral = refer(
        case,
        point,
        step=0,
        reason="manual",
        chosen_by="operator",
        override_reason=(note or "").strip() or None,
    )
    case.status = "referred"
    record_event(
        user, "referral.create", "referral", referral.id, {"case": case.reference, "by": "hand"}
    )
    return referral


def record_transfer(case: Case, leg: CallLeg) -> Referral | None:
    """The referral a phone transfer the point answered stands for (accepted: the point
    took the caller on the line), once per transfer; in the caller's transaction."""
    if leg.kind != "transfer" or leg.answered_at is None or leg.referral_id is not None:
        return None
    referral = Referral(
        case=case,
        service_point_id=leg.service_point_id,
        step=0,
        urgency=case.risk,
        reason=f"{leg.mode} transfer",
        chosen_by="operator",
        status="accepted",
        acknowledged_at=leg.answered_at,
        accepted_at=leg.answered_at,
    )
    db.session.add(referral)
    db.session.flush()
    leg.referral_id = referral.id
    if case.status == "open":
        case.status = "referred"
    return referral


def record_earlier_transfers(case: Case) -> int:
    """Transfers the call behind a new case made before the case existed (the operator
    transferred the caller first and filled in the intake after): each becomes its
    accepted referral now."""
    if case.contact_id is None:
        return 0
    legs = db.session.scalars(
        select(CallLeg).where(
            CallLeg.contact_id == case.contact_id,
            CallLeg.kind == "transfer",
            CallLeg.answered_at.is_not(None),
            CallLeg.referral_id.is_(None),
        )
    ).all()
    return sum(1 for leg in legs if record_transfer(case, leg) is not None)
