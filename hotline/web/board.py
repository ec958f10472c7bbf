"""The operator board: live calls, SMS conversations, voicemails, callback requests and
alerts nobody has acknowledged yet. The page polls a fragment of itself every few seconds.

Caller numbers are masked everywhere; showing one in full is a deliberate, audit-logged
action (an operator calling back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import exists, or_, select

from hotline.api.tasks import recording_response
from hotline.audit import record_event
from hotline.cases.access import repeat_count
from hotline.errors import ValidationError
from hotline.tasks.work import AlreadyDone, close_task
from hotline.web.security import current_user, login_required
from models import Alert, Case, Contact, Referral, Task, db
from models.types import utcnow

bp = Blueprint("operator", __name__, url_prefix="/operator")

#: Contacts older than this without a case leave the board (they stay in the database).
BOARD_WINDOW = timedelta(days=2)
ENDED_CALL_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled", "closed")
POLL_SECONDS = 5


def mask_number(number: str | None) -> str:
    """Only the last three digits, e.g. ``••• 111``."""
    if not number:
        return "—"
    return "••• " + number[-3:]


@dataclass
class BoardRow:
    contact: Contact
    masked: str
    repeat: int
    last_message: str | None


def _row(contact: Contact) -> BoardRow:
    last_in = next((m for m in reversed(contact.messages) if m.direction == "in"), None)
    return BoardRow(
        contact=contact,
        masked=mask_number(contact.caller_number),
        repeat=repeat_count(contact),
        last_message=last_in.body if last_in else None,
    )


def board_sections() -> dict[str, list]:
    since = utcnow() - BOARD_WINDOW
    no_case = ~exists().where(Case.contact_id == Contact.id)
    recent = select(Contact).where(Contact.started_at >= since, no_case)
    calls = db.session.scalars(
        recent.where(
            Contact.channel == "voice",
            Contact.ended_at.is_(None),
            Contact.status.not_in(ENDED_CALL_STATUSES),
        ).order_by(Contact.started_at)
    ).all()
    sms = db.session.scalars(
        recent.where(Contact.channel == "sms", Contact.status != "closed").order_by(
            Contact.updated_at.desc()
        )
    ).all()
    waiting = db.session.scalars(
        recent.where(
            Contact.channel == "voice",
            or_(Contact.recording_url.is_not(None), Contact.callback_requested.is_(True)),
        ).order_by(Contact.started_at)
    ).all()
    alerts = db.session.scalars(
        select(Alert)
        .join(Referral, Alert.referral_id == Referral.id)
        .where(Referral.acknowledged_at.is_(None), Referral.status == "pending")
        .order_by(Alert.created_at)
        .limit(100)
    ).all()
    return {
        "calls": [_row(c) for c in calls],
        "sms": [_row(c) for c in sms],
        "waiting": [_row(c) for c in waiting],
        "alerts": alerts,
    }


@bp.get("/")
@login_required("operator")
def board():
    """The live board (refreshes itself)."""
    return render_template(
        "operator/board.html", sections=board_sections(), poll_seconds=POLL_SECONDS
    )


@bp.get("/board/live")
@login_required("operator")
def board_data():
    """The board's live part alone, for polling (does not extend the session)."""
    return render_template("operator/_live.html", sections=board_sections())


@bp.post("/contacts/<int:contact_id>/reveal")
@login_required("operator")
def reveal(contact_id: int):
    """Show a caller's full number, on purpose, and record who looked."""
    contact = db.session.get(Contact, contact_id) if contact_id < 2**31 else None
    if contact is None:
        abort(404)
    record_event(current_user(), "contact.reveal", "contact", contact.id)
    db.session.commit()
    return render_template("operator/reveal.html", contact=contact)


def _task_or_404(task_id: int) -> Task:
    task = db.session.get(Task, task_id) if task_id < 2**31 else None
    if task is None:
        abort(404)
    return task


@bp.get("/tasks/<int:task_id>/recording")
@login_required("operator")
def task_recording(task_id: int):
    """A voicemail's audio for the page's player, fetched by the server (the browser never
    sees the provider's URL); audit-logged."""
    return recording_response(_task_or_404(task_id), current_user())


@bp.post("/tasks/<int:task_id>/done")
@login_required("operator")
def task_done(task_id: int):
    """Close a task with its outcome (form: ``outcome``, ``note``, ``next``)."""
    task = _task_or_404(task_id)
    try:
        close_task(task, current_user(), request.form.get("outcome"), request.form.get("note"))
        db.session.commit()
        flash(_("Task closed."), "ok")
    except ValidationError as exc:
        db.session.rollback()
        flash(" ".join(m for msgs in exc.errors.values() for m in msgs), "error")
    except AlreadyDone:
        db.session.rollback()
        flash(_("This task was already closed."), "error")
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("operator.board")
    return redirect(target)
