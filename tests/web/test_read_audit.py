"""Reads of statistics exports, the board's message text and the intake thread are
audit-logged like case views (DESIGN.md sections 2 and 15)."""

from __future__ import annotations

from sqlalchemy import select

from models import AuditEvent, Contact, User, db
from tests.webclient import ROLE_USERS

QUERY = "?period=2026-S1"


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()


def _user_id(app, role: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == ROLE_USERS[role]))


def test_statistics_downloads_are_audited(app, signed_in):
    manager = signed_in("manager")
    for path, action, kind in (
        ("/dashboard/export.csv", "stats.export", "csv"),
        ("/dashboard/export.xlsx", "stats.export", "xlsx"),
        ("/dashboard/report.xlsx", "stats.report", "report"),
    ):
        assert manager.get(path + QUERY).status_code == 200
        event = _events(app, action)[-1]
        assert event.actor_id == _user_id(app, "manager")
        assert event.details["format"] == kind and event.details["period"] == "2026-S1"
    assert len(_events(app, "stats.export")) == 2


def test_a_refused_download_records_nothing(app, signed_in):
    assert signed_in("operator").get("/dashboard/export.csv" + QUERY).status_code == 403
    assert _events(app, "stats.export") == []


def test_the_stats_api_is_audited(app, demo, token_for):
    client = app.test_client()
    response = client.get("/api/v1/stats?period=2026-03", headers=token_for("manager"))
    assert response.status_code == 200
    [event] = _events(app, "stats.api")
    assert event.actor_id == _user_id(app, "manager")
    assert event.details == {"format": "api", "period": "2026-03"}


def test_board_showing_message_text_is_audited_once_per_change(app, signed_in, twilio):
    operator = signed_in("operator")
    assert operator.get("/operator/").status_code == 200
    assert _events(app, "board.view") == []  # nothing with message text on it
    assert twilio.sms("Chị ơi giúp em", "SM" + "4" * 32).status_code == 200
    with app.app_context():
        contact_id = db.session.scalar(select(Contact.id).where(Contact.channel == "sms"))
    assert "Chị ơi giúp em" in operator.get("/operator/").get_data(as_text=True)
    assert operator.get("/operator/board/live").status_code == 200  # same text: no new entry
    [event] = _events(app, "board.view")
    assert event.details == {"contacts": [contact_id]}
    assert event.actor_id == _user_id(app, "operator")
    assert twilio.sms("Em vẫn ở đây", "SM" + "5" * 32).status_code == 200
    operator.get("/operator/board/live")
    assert len(_events(app, "board.view")) == 2


def test_the_intake_thread_view_is_audited(app, signed_in, twilio):
    operator = signed_in("operator")
    assert twilio.sms("Em cần giúp đỡ", "SM" + "6" * 32).status_code == 200
    with app.app_context():
        contact_id = db.session.scalar(select(Contact.id).where(Contact.channel == "sms"))
    page = operator.get(f"/intake/new?contact={contact_id}")
    assert "Em cần giúp đỡ" in page.get_data(as_text=True)
    [event] = _events(app, "contact.thread_view")
    assert (event.object_id == str(contact_id) and event.details == {"messages": 2}) or (
        event.details["messages"] >= 1
    )
    operator.get("/intake/new")  # a walk-in: no thread, no entry
    assert len(_events(app, "contact.thread_view")) == 1
