"""The case page: what was recorded, where it was routed and everything that happened since,
and who has viewed it. Operators see it all; a social worker of a point the case was
referred to sees the minimum to act; anyone else gets 404. Every view is audit-logged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.audit import record_event
from hotline.cases.access import (
    place_label,
    point_ids,
    record_view,
    routing_reason,
    visible_case,
)
from hotline.labels import label
from hotline.web.board import mask_number
from hotline.web.security import current_user, login_required
from models import Alert, AuditEvent, Contact, FollowUp, Referral, User, db
from routing.codes import SERVICES

bp = Blueprint("cases", __name__, url_prefix="/cases")


@dataclass
class Event:
    at: datetime
    kind: str
    text: str
    body: str | None = None  # message text, shown as text (escaped) for operators only


def _username(user_id: int | None) -> str:
    if user_id is None:
        return _("the system")
    user = db.session.get(User, user_id)
    return user.username if user else "?"


def timeline(case, full: bool, referrals: list[Referral]) -> list[Event]:
    events: list[Event] = []
    contact = db.session.get(Contact, case.contact_id) if case.contact_id else None
    if contact is not None:
        # Only operators see even the masked number; the others see the channel.
        text = (
            _(
                "%(channel)s from %(number)s",
                channel=label(contact.channel, "channel"),
                number=mask_number(contact.caller_number),
            )
            if full
            else label(contact.channel, "channel")
        )
        events.append(Event(contact.started_at, "contact", text))
        if full:
            for m in contact.messages:
                events.append(
                    Event(
                        m.created_at,
                        "message",
                        _("SMS received") if m.direction == "in" else _("SMS sent"),
                        m.body if m.body is not None else _("(shredded)"),
                    )
                )
            if contact.recording_url:
                events.append(Event(contact.started_at, "voicemail", _("Voicemail recorded")))
    events.append(
        Event(
            case.created_at,
            "intake",
            _("Intake recorded by %(user)s", user=_username(case.created_by_id)),
        )
    )
    events.append(Event(case.created_at, "routing", routing_reason(case, str(get_locale()))))
    referral_ids = [r.id for r in referrals]
    for r in referrals:
        step = (
            _("Referred to %(point)s", point=r.service_point.name)
            if r.step == 0
            else _(
                "Escalated to %(point)s (step %(step)d)", point=r.service_point.name, step=r.step
            )
        )
        if r.chosen_by == "operator":
            step += " · " + _("chosen by the operator")
        events.append(Event(r.created_at, "referral", step, r.override_reason if full else None))
        if r.acknowledged_at:
            events.append(
                Event(
                    r.acknowledged_at,
                    "acknowledged",
                    _(
                        "Acknowledged by %(who)s (%(via)s) for %(point)s",
                        who=_username(r.acknowledged_by_id),
                        via=r.acknowledged_via or "?",
                        point=r.service_point.name,
                    ),
                )
            )
        if r.status == "declined":
            events.append(
                Event(
                    r.acknowledged_at or r.created_at,
                    "declined",
                    _("Declined by %(point)s", point=r.service_point.name),
                    r.decline_reason if full else None,
                )
            )
        if r.outcome_at:
            services = ", ".join(label(s, "service") for s in r.services_received or [])
            events.append(
                Event(
                    r.outcome_at,
                    "outcome",
                    _("Outcome: %(services)s", services=services or _("no service received")),
                    r.outcome_notes,
                )
            )
    if referral_ids:
        for alert in db.session.scalars(select(Alert).where(Alert.referral_id.in_(referral_ids))):
            events.append(
                Event(
                    alert.created_at,
                    "alert",
                    _(
                        "Alert to %(point)s: %(status)s",
                        point=alert.referral.service_point.name,
                        status=alert.status,
                    ),
                )
            )
            if alert.escalated_at:
                events.append(
                    Event(
                        alert.escalated_at, "escalation", _("Not acknowledged in time: escalated")
                    )
                )
    if full:
        for f in db.session.scalars(select(FollowUp).where(FollowUp.case_id == case.id)):
            events.append(
                Event(
                    f.sent_at or f.due_at,
                    "follow_up",
                    _(
                        "Follow-up (%(kind)s) by %(channel)s: %(status)s",
                        kind=f.kind,
                        channel=label(f.channel, "safe_channel"),
                        status=f.status,
                    ),
                )
            )
    events.sort(key=lambda e: e.at)
    return events


@bp.get("/")
@login_required("operator", "social_worker")
def index():
    """The case list (being built: see issue 13)."""
    return render_template("cases/index.html")


@bp.get("/<reference>")
@login_required()  # every role gets 404 for a case out of its scope, never a hint
def show(reference: str):
    """One case, as the signed-in role may see it; 404 when out of scope."""
    user = current_user()
    case = visible_case(reference[:20], user)
    if case is None:
        abort(404)
    record_view(user, case, "web")
    db.session.commit()
    full = user.role == "operator"
    referrals = (
        list(case.referrals)
        if full
        else [r for r in case.referrals if r.service_point_id in set(point_ids(user))]
    )
    views = []
    if full:
        views = db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.object_type == "case",
                AuditEvent.object_id == case.reference,
                AuditEvent.action == "case.view",
            )
            .order_by(AuditEvent.at.desc())
            .limit(50)
        ).all()
    return render_template(
        "cases/show.html",
        case=case,
        full=full,
        place=place_label(case),
        reason=routing_reason(case, str(get_locale())),
        events=timeline(case, full, referrals),
        referrals=referrals,
        views=views,
        services=SERVICES,
    )


@bp.post("/<reference>/legal-hold")
@login_required("operator")
def legal_hold(reference: str):
    """Keep (or release) a case's free text past the retention period."""
    user = current_user()
    case = visible_case(reference[:20], user)
    if case is None:
        abort(404)
    case.legal_hold = request.form.get("hold") == "yes"
    record_event(user, "case.legal_hold", "case", case.reference, {"hold": case.legal_hold})
    db.session.commit()
    flash(_("Legal hold is on.") if case.legal_hold else _("Legal hold is off."), "ok")
    return redirect(url_for("cases.show", reference=case.reference))
