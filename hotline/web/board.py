"""The operator board: live calls, SMS conversations, the open tasks (voicemails, callback
requests, follow-up calls due, cases no point accepted, SMS without a place) and alerts
nobody has acknowledged yet. The page polls a fragment of itself every few seconds.

An SMS conversation stays on the board while it has no case yet, or while it has inbound
messages no operator has seen (even after it was routed): opening its case or "Mark as
read" moves ``Contact.seen_message_id`` past them.

Caller numbers are masked everywhere; showing one in full is a deliberate, audit-logged
action (an operator calling back).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select, update

from hotline.api.tasks import recording_response
from hotline.audit import record_event
from hotline.cases.access import repeat_count
from hotline.errors import ValidationError
from hotline.tasks import OUTCOMES
from hotline.tasks.work import AlreadyDone, TaskView, close_task, list_tasks
from hotline.web.security import current_user, login_required
from models import Alert, Case, Contact, Message, Referral, Task, db
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
    #: Inbound messages no operator has seen yet (SMS).
    unseen: int = 0
    #: The case made from this contact, if any (a routed SMS conversation).
    case_reference: str | None = None


@dataclass
class TaskRow:
    view: TaskView
    masked: str | None

    @property
    def task(self) -> Task:
        return self.view.task

    @property
    def needs_intake(self) -> bool:
        """The task's call or conversation has no case yet: the operator opens the intake."""
        return self.view.contact is not None and self.view.case_reference is None


def _row(contact: Contact, case_reference: str | None = None) -> BoardRow:
    seen = contact.seen_message_id or 0
    inbound = [m for m in contact.messages if m.direction == "in"]
    return BoardRow(
        contact=contact,
        masked=mask_number(contact.caller_number),
        repeat=repeat_count(contact),
        last_message=inbound[-1].body if inbound else None,
        unseen=sum(1 for m in inbound if m.id > seen),
        case_reference=case_reference,
    )


def _case_references(contact_ids: list[int]) -> dict[int, str]:
    """The (first) case reference of each contact that has one."""
    if not contact_ids:
        return {}
    references: dict[int, str] = {}
    for contact_id, reference in db.session.execute(
        select(Case.contact_id, Case.reference)
        .where(Case.contact_id.in_(contact_ids))
        .order_by(Case.id)
    ):
        references.setdefault(contact_id, reference)
    return references


def _unseen_since(since):
    """An inbound message of the contact, received in the board window, that no operator
    has seen."""
    return exists().where(
        Message.contact_id == Contact.id,
        Message.direction == "in",
        Message.id > func.coalesce(Contact.seen_message_id, 0),
        Message.created_at >= since,
    )


#: Conversations in writing shown together (each row is labelled with its channel).
WRITTEN_CHANNELS = ("sms", "zalo")


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
        select(Contact)
        .where(
            Contact.channel.in_(WRITTEN_CHANNELS),
            or_(
                and_(Contact.started_at >= since, no_case, Contact.status != "closed"),
                _unseen_since(since),
            ),
        )
        .order_by(Contact.updated_at.desc(), Contact.id.desc())
    ).all()
    references = _case_references([c.id for c in sms])
    tasks = list_tasks("open")
    alerts = db.session.scalars(
        select(Alert)
        .join(Referral, Alert.referral_id == Referral.id)
        .where(Referral.acknowledged_at.is_(None), Referral.status == "pending")
        .order_by(Alert.created_at)
        .limit(100)
    ).all()
    return {
        "calls": [_row(c) for c in calls],
        "sms": [_row(c, references.get(c.id)) for c in sms],
        "tasks": [
            TaskRow(view=v, masked=mask_number(v.contact.caller_number) if v.contact else None)
            for v in tasks
        ],
        "alerts": alerts,
    }


def _audit_message_text(sections: dict[str, list], *, poll: bool) -> None:
    """Record that the board showed these messages' text (like a case view). A poll that
    shows the same messages as the last entry of this session records nothing, so the
    log says who saw which text when without an entry every few seconds."""
    shown = sorted(
        (row.contact.id, max(m.id for m in row.contact.messages))
        for row in sections["sms"]
        if row.last_message is not None
    )
    if not shown:
        return
    fingerprint = hashlib.sha256(repr(shown).encode()).hexdigest()[:16]
    if poll and session.get("board_audited") == fingerprint:
        return
    session["board_audited"] = fingerprint
    record_event(current_user(), "board.view", "board", None, {"contacts": [c for c, _m in shown]})
    db.session.commit()


@bp.get("/")
@login_required("operator")
def board():
    """The live board (refreshes itself)."""
    sections = board_sections()
    _audit_message_text(sections, poll=False)
    return render_template(
        "operator/board.html",
        sections=sections,
        poll_seconds=POLL_SECONDS,
        outcomes=OUTCOMES,
    )


@bp.get("/board/live")
@login_required("operator")
def board_data():
    """The board's live part alone, for polling (does not extend the session)."""
    sections = board_sections()
    _audit_message_text(sections, poll=True)
    return render_template("operator/_live.html", sections=sections, outcomes=OUTCOMES)


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


@bp.post("/contacts/<int:contact_id>/seen")
@login_required("operator")
def seen(contact_id: int):
    """The operator has read the conversation's messages up to now (it leaves the board
    until the next inbound message, unless it still has no case)."""
    contact = db.session.get(Contact, contact_id) if contact_id < 2**31 else None
    if contact is None:
        abort(404)
    last = db.session.scalar(
        select(func.max(Message.id)).where(
            Message.contact_id == contact.id, Message.direction == "in"
        )
    )
    if last is not None:
        # Conditional, so two operators (or the case page) never move it backwards.
        db.session.execute(
            update(Contact)
            .where(
                Contact.id == contact.id,
                or_(Contact.seen_message_id.is_(None), Contact.seen_message_id < last),
            )
            .values(seen_message_id=last)
            .execution_options(synchronize_session=False)
        )
    record_event(current_user(), "contact.seen", "contact", contact.id)
    db.session.commit()
    return redirect(url_for("operator.board"))


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
    return redirect(_local_target(request.form.get("next")))


def _local_target(target: str | None) -> str:
    """``target`` when it is a path on this site, else the board (no open redirect:
    ``//host``, ``/\\host`` and schemes are refused, as are control characters)."""
    target = target or ""
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in target)
    ):
        return url_for("operator.board")
    return target
