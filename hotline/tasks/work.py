"""Listing and closing tasks, and playing a voicemail (DESIGN.md section 11)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select, update

from hotline.audit import record_event
from hotline.errors import ValidationError
from hotline.tasks import OUTCOMES
from hotline.telephony import Recording
from hotline.telephony.outbound import fetch_recording
from models import Case, Contact, FollowUp, Task, User, db
from models.types import utcnow

MAX_TASK_NOTE = 2_000
#: How many tasks one list shows (open tasks are a work queue, not an archive).
LIST_LIMIT = 200


class AlreadyDone(Exception):
    """The task was closed before (by this operator or another)."""


@dataclass(frozen=True)
class TaskView:
    task: Task
    case_reference: str | None
    has_recording: bool
    contact: Contact | None


def _contacts(tasks: list[Task]) -> dict[int, Contact]:
    ids = {t.contact_id for t in tasks if t.contact_id}
    if not ids:
        return {}
    return {c.id: c for c in db.session.scalars(select(Contact).where(Contact.id.in_(ids)))}


def _references(tasks: list[Task]) -> tuple[dict[int, str], dict[int, str]]:
    """Case references by case id, and by contact id for tasks known by their contact."""
    case_ids = {t.case_id for t in tasks if t.case_id}
    contact_ids = {t.contact_id for t in tasks if t.contact_id and not t.case_id}
    by_case: dict[int, str] = {}
    by_contact: dict[int, str] = {}
    if case_ids:
        by_case = dict(
            db.session.execute(select(Case.id, Case.reference).where(Case.id.in_(case_ids))).all()
        )
    if contact_ids:
        for contact_id, reference in db.session.execute(
            select(Case.contact_id, Case.reference)
            .where(Case.contact_id.in_(contact_ids))
            .order_by(Case.id)
        ):
            by_contact.setdefault(contact_id, reference)
    return by_case, by_contact


def views(tasks: list[Task]) -> list[TaskView]:
    contacts = _contacts(tasks)
    by_case, by_contact = _references(tasks)
    out = []
    for t in tasks:
        contact = contacts.get(t.contact_id) if t.contact_id else None
        reference = by_case.get(t.case_id) if t.case_id else by_contact.get(t.contact_id)
        out.append(
            TaskView(
                task=t,
                case_reference=reference,
                has_recording=bool(
                    t.kind == "voicemail" and contact is not None and contact.recording_url
                ),
                contact=contact,
            )
        )
    return out


def list_tasks(status: str = "open", case_id: int | None = None) -> list[TaskView]:
    """Open tasks oldest first (a work queue); done ones newest first."""
    query = select(Task).where(Task.status == status)
    if case_id is not None:
        query = query.where(Task.case_id == case_id)
    order = Task.created_at.asc() if status == "open" else Task.done_at.desc()
    return views(list(db.session.scalars(query.order_by(order, Task.id).limit(LIST_LIMIT))))


def tasks_of_case(case: Case) -> list[TaskView]:
    """Every task about this case, or about the call or conversation it came from."""
    about = Task.case_id == case.id
    if case.contact_id:
        about = about | (Task.contact_id == case.contact_id)
    return views(list(db.session.scalars(select(Task).where(about).order_by(Task.created_at))))


def close_task(task: Task, user: User, outcome: object, note: object = None) -> None:
    """Close a task with its outcome; :class:`AlreadyDone` when it was closed already.

    Raises :class:`ValidationError` for an unknown outcome or an unusable note. The
    conditional UPDATE lets only the first of two operators closing at once win.
    """
    errors: dict[str, list[str]] = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = [_("Choose what happened: reached, no answer, unsafe or not needed.")]
    if note is not None and (not isinstance(note, str) or len(note) > MAX_TASK_NOTE):
        errors["note"] = [_("A note is text of at most %(n)d characters.", n=MAX_TASK_NOTE)]
    if errors:
        raise ValidationError(errors)
    now = utcnow()
    done = db.session.execute(
        update(Task)
        .where(Task.id == task.id, Task.status == "open")
        .values(
            status="done",
            outcome=outcome,
            note=(note or "").strip() or None,
            done_by_id=user.id,
            done_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise AlreadyDone()
    db.session.refresh(task)
    if task.follow_up_id:
        follow_up = db.session.get(FollowUp, task.follow_up_id)
        if follow_up is not None and follow_up.status == "due_call":
            follow_up.status = "called" if outcome == "reached" else "call_closed"
            follow_up.sent_at = now
    record_event(user, "task.done", "task", task.id, {"kind": task.kind, "outcome": outcome})


def recording_of(task: Task, user: User) -> Recording:
    """The voicemail's audio, fetched from the provider by the server; audit-logged.

    Raises :class:`LookupError` when the task has no recording (any more) and
    :class:`~hotline.telephony.RecordingUnavailable` when the provider cannot give it.
    """
    contact = db.session.get(Contact, task.contact_id) if task.contact_id else None
    if task.kind != "voicemail" or contact is None or not contact.recording_url:
        raise LookupError("no recording")
    record_event(user, "recording.play", "task", task.id, {"contact": contact.id})
    db.session.commit()  # the play is recorded even if the provider fails
    return fetch_recording(contact.recording_url)
