"""Notes operators add to a case after the intake (DESIGN.md section 11): personal data,
encrypted at rest, read with the (audit-logged) case, shredded by retention."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from hotline.audit import record_event
from hotline.cases.body import MAX_NOTES
from hotline.errors import ValidationError
from models import Case, CaseNote, User, db


def add_note(case: Case, user: User, text: object) -> CaseNote:
    """Add a note (in the caller's transaction); ValidationError when empty or too long."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError({"text": [_("Write the note.")]})
    if len(text) > MAX_NOTES:
        raise ValidationError({"text": [_("A note is at most %(n)d characters.", n=MAX_NOTES)]})
    note = CaseNote(case_id=case.id, author_id=user.id, text=text.strip())
    db.session.add(note)
    db.session.flush()
    record_event(user, "case.note", "case", case.reference, {"note": note.id})
    return note


def notes_of(case: Case) -> list[CaseNote]:
    return list(
        db.session.scalars(
            select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id)
        )
    )
