"""The case list and the case page: what was recorded, where it was routed and everything
that happened since, and who has viewed it. Operators see it all and work the case from
the page (notes, SMS replies within the rules, referrals by hand, corrections to the
intake, tasks); a social worker of a point the case was referred to sees the minimum to
act; anyone else gets 404. Every view is audit-logged.

The forms call the same services as the JSON API (DESIGN.md section 11), so the screens
accept and refuse exactly what the API does, and say why in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_time, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from werkzeug.datastructures import MultiDict

from hotline.audit import record_event
from hotline.cases.access import (
    place_label,
    point_ids,
    record_view,
    routing_reason,
    visible_case,
)
from hotline.cases.body import MAX_NOTES
from hotline.cases.messages import (
    MAX_REPLY,
    ReplyRefused,
    mark_seen,
    reply_target,
    send_reply,
    thread,
)
from hotline.cases.notes import add_note, notes_of
from hotline.cases.search import CASE_STATUSES, parse_query, search_cases
from hotline.cases.update import patch_case
from hotline.errors import ValidationError
from hotline.labels import LABELS, label
from hotline.referrals.create import MAX_REFERRAL_NOTE, refer_by_hand
from hotline.tasks import OUTCOMES
from hotline.tasks.work import MAX_TASK_NOTE, TaskView, tasks_of_case
from hotline.web.board import mask_number
from hotline.web.intake import ERROR_FIELDS, form_to_body
from hotline.web.security import current_user, login_required
from models import (
    Alert,
    AuditEvent,
    Case,
    Contact,
    FollowUp,
    Message,
    NewCommune,
    Referral,
    ServicePoint,
    User,
    db,
)
from routing.codes import (
    AGE_BANDS,
    CONTEXTS,
    RISKS,
    SAFE_CHANNELS,
    SERVICE_POINT_KINDS,
    SERVICES,
    SEXES,
    VIOLENCE_TYPES,
)

bp = Blueprint("cases", __name__, url_prefix="/cases")

#: Words for a case's status (``hotline.cases.search.CASE_STATUSES``).
CASE_STATUS = {"open": _l("Open"), "referred": _l("Referred"), "closed": _l("Closed")}
#: How many of the same number's other cases the page lists.
SAME_NUMBER_LIMIT = 10
_FILTERS = ("q", "status", "commune_code", "since", "until")


@bp.app_template_filter("case_status")
def case_status(code: str) -> str:
    """A case status in words (``{{ case.status|case_status }}``)."""
    word = CASE_STATUS.get(code)
    return str(word) if word is not None else code


@dataclass
class Event:
    at: datetime
    kind: str
    text: str
    body: str | None = None  # free text, shown as text (escaped) for operators only


def _username(user_id: int | None) -> str:
    if user_id is None:
        return _("the system")
    user = db.session.get(User, user_id)
    return user.username if user else "?"


def _visible_or_404(reference: str, user: User) -> Case:
    case = visible_case(reference[:20], user)
    if case is None:
        abort(404)
    return case


def _messages(errors: dict[str, list[str]] | list[str]) -> str:
    if isinstance(errors, list):
        return " ".join(errors)
    return " ".join(m for messages in errors.values() for m in messages)


def timeline(
    case: Case,
    full: bool,
    referrals: list[Referral],
    tasks: list[TaskView] | None = None,
) -> list[Event]:
    """Everything that happened to the case, oldest first. Only operators (``full``) see
    message texts, notes, tasks and follow-ups."""
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
        if full and contact.recording_url:
            events.append(Event(contact.started_at, "voicemail", _("Voicemail recorded")))
    if full:
        events.extend(_message_events(thread(case)))
        events.extend(
            Event(
                n.created_at,
                "note",
                _("Note by %(user)s", user=_username(n.author_id)),
                n.text if n.text is not None else _("(shredded)"),
            )
            for n in notes_of(case)
        )
        events.extend(_task_events(tasks if tasks is not None else tasks_of_case(case)))
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
        events.extend(_referral_events(r, full))
    if referral_ids:
        for alert in db.session.scalars(select(Alert).where(Alert.referral_id.in_(referral_ids))):
            events.append(
                Event(
                    alert.created_at,
                    "alert",
                    _(
                        "Alert to %(point)s: %(status)s",
                        point=alert.referral.service_point.name,
                        status=label(alert.status, "delivery_status"),
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
                        status=label(f.status, "follow_up_status"),
                    ),
                )
            )
    events.sort(key=lambda e: e.at)
    return events


def _message_events(messages: list[Message]) -> list[Event]:
    events = []
    for m in messages:
        if m.direction == "in":
            text = _("SMS received")
        elif m.sent_by_id:
            text = _(
                "SMS sent by %(user)s: %(status)s",
                user=_username(m.sent_by_id),
                status=label(m.status, "delivery_status"),
            )
        else:
            text = _("SMS sent: %(status)s", status=label(m.status, "delivery_status"))
        events.append(
            Event(m.created_at, "message", text, m.body if m.body is not None else _("(shredded)"))
        )
    return events


def _task_events(tasks: list[TaskView]) -> list[Event]:
    events = []
    for view in tasks:
        task = view.task
        kind = label(task.kind, "task_kind")
        events.append(Event(task.created_at, "task", _("Task opened: %(kind)s", kind=kind)))
        if task.status == "done" and task.done_at is not None:
            events.append(
                Event(
                    task.done_at,
                    "task_done",
                    _(
                        "Task closed by %(user)s (%(kind)s): %(outcome)s",
                        user=_username(task.done_by_id),
                        kind=kind,
                        outcome=label(task.outcome, "task_outcome"),
                    ),
                    task.note,
                )
            )
    return events


def _referral_text(r: Referral) -> str:
    """How the case came to this point, in words (the referral's coded reason)."""
    point = r.service_point.name
    reason = r.reason or ""
    if reason == "police":
        return _("Police point %(point)s alerted (immediate danger)", point=point)
    if reason == "child_protection":
        return _("Referred to %(point)s on the child-protection path", point=point)
    if reason == "manual":
        return _("Referred by hand to %(point)s", point=point)
    if reason in ("warm transfer", "cold transfer"):
        return _("Call transferred to %(point)s", point=point)
    if reason.startswith("declined"):
        return _("Moved on to %(point)s after a decline", point=point)
    if r.step > 0:
        return _("Escalated to %(point)s (step %(step)d)", point=point, step=r.step)
    text = _("Referred to %(point)s", point=point)
    if r.chosen_by == "operator":
        text += " · " + _("chosen by the operator")
    return text


def _referral_events(r: Referral, full: bool) -> list[Event]:
    point = r.service_point.name
    events = [
        Event(r.created_at, "referral", _referral_text(r), r.override_reason if full else None)
    ]
    if r.acknowledged_at:
        events.append(
            Event(
                r.acknowledged_at,
                "acknowledged",
                _(
                    "Acknowledged by %(who)s (%(via)s) for %(point)s",
                    who=_username(r.acknowledged_by_id),
                    via=label(r.acknowledged_via or "", "ack_channel"),
                    point=point,
                ),
            )
        )
    if r.accepted_at:
        events.append(Event(r.accepted_at, "accepted", _("Accepted by %(point)s", point=point)))
    if r.status == "declined":
        events.append(
            Event(
                r.ended_at or r.acknowledged_at or r.created_at,
                "declined",
                _(
                    "Declined by %(point)s: %(reason)s",
                    point=point,
                    reason=label(r.decline_code or "other", "decline_reason"),
                ),
                r.decline_reason if full else None,
            )
        )
    if r.status == "expired":
        events.append(
            Event(
                r.ended_at or r.created_at,
                "expired",
                _("%(point)s did not answer in time: the case moved on", point=point),
            )
        )
    if r.outcome_at:
        services = ", ".join(label(s, "service") for s in r.services_received or [])
        outcome = label(r.outcome, "referral_outcome") if r.outcome else _("Outcome")
        events.append(
            Event(
                r.outcome_at,
                "outcome",
                _(
                    "%(outcome)s (%(point)s): %(services)s",
                    outcome=outcome,
                    point=point,
                    services=services or _("no service received"),
                ),
                r.outcome_notes,
            )
        )
    return events


def _communes() -> list[NewCommune]:
    return list(db.session.scalars(select(NewCommune).order_by(NewCommune.name)))


@bp.route("/", methods=["GET", "POST"])
@login_required("operator", "social_worker")
def index():
    """The cases the user may see, newest first, searched and filtered.

    The search form posts, so a phone number typed into it stays out of addresses
    (browser history, proxy logs); the same parameters work as a query string."""
    user = current_user()
    args = request.form if request.method == "POST" else request.args
    filters = {name: (args.get(name) or "").strip()[:64] for name in _FILTERS}
    errors: dict[str, list[str]] = {}
    page = None
    try:
        query = parse_query(args)
    except ValidationError as exc:
        errors = _list_errors(exc.errors)
    else:
        page = search_cases(query, user)
        db.session.commit()  # a search by number is audit-logged
    next_url = None
    if page is not None and page.next_cursor and not filters["q"]:
        kept = {k: v for k, v in filters.items() if v}
        next_url = url_for("cases.index", **kept, cursor=page.next_cursor)
    return (
        render_template(
            "cases/index.html",
            filters=filters,
            errors=errors,
            page=page,
            rows=[(row, place_label(row.case)) for row in page.rows] if page else [],
            next_url=next_url,
            statuses=CASE_STATUSES,
            communes=_communes(),
            full=user.role == "operator",
        ),
        422 if errors else 200,
    )


def _list_errors(errors: dict[str, list[str]] | list[str]) -> dict[str, list[str]]:
    """Errors by form field; those of parameters the form has no field for (a stale
    cursor, a limit typed into the address) at the top of the form."""
    if isinstance(errors, list):
        return {"form": list(errors)}
    shown: dict[str, list[str]] = {}
    for key, messages in errors.items():
        shown.setdefault(key if key in _FILTERS else "form", []).extend(messages)
    return shown


@bp.get("/<reference>")
@login_required()  # every role gets 404 for a case out of its scope, never a hint
def show(reference: str):
    """One case, as the signed-in role may see it; 404 when out of scope."""
    user = current_user()
    case = _visible_or_404(reference, user)
    record_view(user, case, "web")
    full = user.role == "operator"
    if full:
        mark_seen(case)  # the board stops showing its conversation as unseen
    db.session.commit()
    referrals = (
        list(case.referrals)
        if full
        else [r for r in case.referrals if r.service_point_id in set(point_ids(user))]
    )
    context: dict[str, Any] = {}
    tasks: list[TaskView] = []
    if full:
        tasks = tasks_of_case(case)
        context = _workspace(case, tasks)
    return render_template(
        "cases/show.html",
        case=case,
        full=full,
        place=place_label(case),
        reason=routing_reason(case, str(get_locale())),
        events=timeline(case, full, referrals, tasks),
        referrals=referrals,
        services=SERVICES,
        **context,
    )


def _workspace(case: Case, tasks: list[TaskView]) -> dict[str, Any]:
    """What only operators get on the case page: the forms and what they need."""
    reply_to, refusal = None, None
    try:
        target = reply_target(case)
    except ReplyRefused as refused:
        refusal = refused.message
    else:
        if target.kind == "conversation" and target.until is not None:
            reply_to = _(
                "To the number that wrote to us. The reply window is open until %(time)s.",
                time=format_time(target.until, "HH:mm"),
            )
        else:
            reply_to = _(
                "To the safe-contact number, inside the safe hours %(hours)s.",
                hours=case.safe_hours or "—",
            )
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
    suggested, by_kind = referral_choices(case)
    return {
        "views": views,
        "messages": thread(case),
        "reply_to": reply_to,
        "refusal": refusal,
        "tasks": tasks,
        "outcomes": OUTCOMES,
        "suggested_points": suggested,
        "points_by_kind": by_kind,
        "same_number": same_number_cases(case),
        "incomplete_sms": case.channel == "sms" and not case.consent_reporting,
        "limits": {
            "note": MAX_NOTES,
            "reply": MAX_REPLY,
            "referral_note": MAX_REFERRAL_NOTE,
            "task_note": MAX_TASK_NOTE,
        },
    }


def referral_choices(
    case: Case,
) -> tuple[list[ServicePoint], list[tuple[str, list[ServicePoint]]]]:
    """Active service points for a referral by hand: the routing decision's first (its
    chain, then the police and child-protection points it named), then the others by kind."""
    points = list(
        db.session.scalars(
            select(ServicePoint)
            .where(ServicePoint.active.is_(True))
            .order_by(ServicePoint.name, ServicePoint.code)
        )
    )
    routing = case.routing or {}
    codes = [*(routing.get("chain") or []), routing.get("police"), routing.get("child_protection")]
    by_code = {p.code: p for p in points}
    suggested: list[ServicePoint] = []
    for code in codes:
        if code in by_code and by_code[code] not in suggested:
            suggested.append(by_code[code])
    groups: dict[str, list[ServicePoint]] = {}
    for p in points:
        if p not in suggested:
            groups.setdefault(p.kind, []).append(p)
    order = [k for k in SERVICE_POINT_KINDS if k in groups] + sorted(
        k for k in groups if k not in SERVICE_POINT_KINDS
    )
    return suggested, [(kind, groups[kind]) for kind in order]


def same_number_cases(case: Case, limit: int = SAME_NUMBER_LIMIT) -> list[Case]:
    """Other cases from the same number, newest first: matched through the keyed hash of
    the caller's number and of the safe-contact number (nothing is decrypted)."""
    hashes: set[str] = set()
    if case.contact_id:
        caller_hash = db.session.scalar(
            select(Contact.caller_hash).where(Contact.id == case.contact_id)
        )
        if caller_hash:
            hashes.add(caller_hash)
    if case.safe_hash:
        hashes.add(case.safe_hash)
    if not hashes:
        return []
    callers = select(Contact.id).where(Contact.caller_hash.in_(hashes))
    return list(
        db.session.scalars(
            select(Case)
            .where(
                Case.id != case.id,
                or_(Case.contact_id.in_(callers), Case.safe_hash.in_(hashes)),
            )
            .order_by(Case.created_at.desc(), Case.id.desc())
            .limit(limit)
        )
    )


def _back(case: Case, anchor: str | None = None):
    return redirect(url_for("cases.show", reference=case.reference, _anchor=anchor))


@bp.post("/<reference>/notes")
@login_required("operator")
def add_case_note(reference: str):
    """Add a note to the case."""
    user = current_user()
    case = _visible_or_404(reference, user)
    try:
        add_note(case, user, request.form.get("text", ""))
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        flash(_messages(exc.errors), "error")
        return _back(case)
    flash(_("Note added."), "ok")
    return _back(case, "h-timeline")


@bp.post("/<reference>/messages")
@login_required("operator")
def reply(reference: str):
    """Send an SMS to the survivor, if the rules allow it now."""
    user = current_user()
    case = _visible_or_404(reference, user)
    try:
        send_reply(case, user, request.form.get("text", ""))
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        flash(_messages(exc.errors), "error")
        return _back(case)
    except ReplyRefused as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return _back(case)
    flash(_("The SMS is queued for sending."), "ok")
    return _back(case, "h-reply")


@bp.post("/<reference>/referrals")
@login_required("operator")
def refer(reference: str):
    """Refer the case by hand to a service point (alerted like a routed referral)."""
    user = current_user()
    case = _visible_or_404(reference, user)
    note = request.form.get("note", "").strip() or None
    try:
        referral = refer_by_hand(case, request.form.get("service_point", ""), note, user)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        flash(_messages(exc.errors), "error")
        return _back(case)
    flash(
        _("Referred to %(point)s; the point is being alerted.", point=referral.service_point.name),
        "ok",
    )
    return _back(case)


def case_form(case: Case) -> MultiDict:
    """The intake form's fields, filled from the case."""
    items: list[tuple[str, str]] = [
        ("commune_code", case.commune_code or ""),
        ("survivor_sex", case.survivor_sex),
        ("survivor_age_band", case.survivor_age_band),
        ("perpetrator_relationship", case.perpetrator_relationship or ""),
        ("perpetrator_sex", case.perpetrator_sex or ""),
        ("perpetrator_age_band", case.perpetrator_age_band or ""),
        ("risk", case.risk),
        ("safe_channel", case.safe_channel),
        ("safe_phone", case.safe_phone or ""),
        ("notes", case.notes or ""),
    ]
    if case.safe_hours and "-" in case.safe_hours:
        start, end = case.safe_hours.split("-", 1)
        items += [("safe_from", start), ("safe_to", end)]
    for name, dimension in (
        ("violence_types", "violence_type"),
        ("contexts", "context"),
        ("needs", "need"),
    ):
        items += [(name, code) for code in case.coded(dimension)]
    for key in ("referral", "follow_up", "reporting"):
        if getattr(case, f"consent_{key}"):
            items.append((f"consent_{key}", "yes"))
    return MultiDict(items)


def _lines(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").strip()


def form_to_patch(form, case: Case) -> dict[str, Any]:
    """The partial API body for the edit form: what ``PATCH /api/v1/cases/<ref>`` gets.

    The place is sent only when the operator chose another commune or typed one (sending
    the same place would route the case again for nothing); the notes only when their
    text changed (browsers send line ends as CR LF)."""
    body = form_to_body(form)
    patch = {
        key: body[key]
        for key in (
            "survivor",
            "violence_types",
            "contexts",
            "risk",
            "needs",
            "consent",
            "safe_contact",
        )
    }
    # "Not said" clears a value (merged key by key, a missing key would keep the old one).
    patch["perpetrator"] = {
        key: form.get(f"perpetrator_{key}") or None for key in ("relationship", "sex", "age_band")
    }
    commune = (form.get("commune_code") or "").strip()
    if (form.get("area_text") or "").strip() or (commune and commune != case.commune_code):
        patch["area"] = body["area"]
    if case.purged_at is None and _lines(form.get("notes")) != _lines(case.notes):
        patch["notes"] = _lines(form.get("notes")) or None
    return patch


def _form_errors(errors: dict[str, list[str]] | list[str]) -> dict[str, list[str]]:
    if isinstance(errors, list):
        return {"form": list(errors)}
    shown: dict[str, list[str]] = {}
    for key, messages in errors.items():
        shown.setdefault(ERROR_FIELDS.get(key, "form"), []).extend(messages)
    return shown


def _render_edit(case: Case, form, errors: dict[str, list[str]], status: int = 200):
    relationships = tuple(LABELS["relationship"])
    if case.perpetrator_relationship and case.perpetrator_relationship not in relationships:
        relationships += (case.perpetrator_relationship,)  # a code the API accepted
    return (
        render_template(
            "cases/edit.html",
            case=case,
            form=form,
            errors=errors,
            communes=_communes(),
            place=place_label(case),
            max_notes=MAX_NOTES,
            codes={
                "sexes": SEXES,
                "age_bands": AGE_BANDS,
                "violence_types": VIOLENCE_TYPES,
                "contexts": CONTEXTS,
                "risks": RISKS,
                "services": SERVICES,
                "safe_channels": SAFE_CHANNELS,
                "relationships": relationships,
            },
        ),
        status,
    )


@bp.route("/<reference>/edit", methods=["GET", "POST"])
@login_required("operator")
def edit(reference: str):
    """Complete or correct the intake (what ``PATCH /api/v1/cases/<ref>`` does)."""
    user = current_user()
    case = _visible_or_404(reference, user)
    if request.method == "GET":
        record_view(user, case, "web")
        db.session.commit()
        return _render_edit(case, case_form(case), {})
    try:
        changed = patch_case(case, form_to_patch(request.form, case), user)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return _render_edit(case, request.form, _form_errors(exc.errors), 422)
    flash(_("Case updated.") if changed else _("Nothing was changed."), "ok")
    return _back(case)


@bp.post("/<reference>/legal-hold")
@login_required("operator")
def legal_hold(reference: str):
    """Keep (or release) a case's free text past the retention period."""
    user = current_user()
    case = _visible_or_404(reference, user)
    case.legal_hold = request.form.get("hold") == "yes"
    record_event(user, "case.legal_hold", "case", case.reference, {"hold": case.legal_hold})
    db.session.commit()
    flash(_("Legal hold is on.") if case.legal_hold else _("Legal hold is off."), "ok")
    return redirect(url_for("cases.show", reference=case.reference))
