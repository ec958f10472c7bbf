"""The audit trail is append-only in the database itself on PostgreSQL (migration 0012):
even SQL that bypasses the ORM cannot change or delete a row."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hotline.audit import record_event
from models import AuditEvent, db


@pytest.fixture
def event_id(ctx) -> int:
    event = record_event("cli", "case.view", "case", 1)
    db.session.commit()
    return event.id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'forged' WHERE id = :id",
        "DELETE FROM audit_event WHERE id = :id",
    ],
)
def test_the_database_refuses_to_change_or_delete_audit_rows(event_id, statement):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the trigger is PostgreSQL's (SQLite relies on the ORM guard)")
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement), {"id": event_id})
    db.session.rollback()
    assert db.session.get(AuditEvent, event_id).action == "case.view"


def test_adding_audit_rows_still_works(event_id):
    record_event("cli", "case.view", "case", 2)
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)) == 2
