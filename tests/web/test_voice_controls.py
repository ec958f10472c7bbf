"""The board's voice controls (``operator/_voice.html``, ``hotline/web/calls.py``): the
availability switch and the transfer form, operator-only, with CSRF."""

from __future__ import annotations

from flask import render_template_string
from sqlalchemy import select

from models import CallLeg, Contact, User, db
from models.types import utcnow
from tests.webclient import OTHER_POINT, ROLE_USERS, post_form

PANEL = '{% include "operator/_voice.html" %}'
SID = "CA" + "7" * 32


def operator(app) -> User:
    return db.session.scalar(select(User).where(User.username == ROLE_USERS["operator"]))


def test_the_availability_switch_saves_and_needs_the_csrf_token(app, signed_in):
    client = signed_in("operator")
    response = post_form(client, "/operator/voice/availability", {"status": "away"})
    assert response.status_code == 302
    with app.app_context():
        assert operator(app).availability == "away"
    refused = client.post("/operator/voice/availability", data={"status": "busy"})
    assert refused.status_code in (400, 403)
    with app.app_context():
        assert operator(app).availability == "away"


def test_other_roles_cannot_use_the_voice_controls(app, signed_in):
    client = signed_in("social_worker")
    response = post_form(client, "/operator/voice/availability", {"status": "away"})
    assert response.status_code in (302, 403, 404)
    with app.app_context():
        sw = db.session.scalar(select(User).where(User.username == ROLE_USERS["social_worker"]))
        assert sw.availability == "available"


def test_the_panel_offers_a_transfer_only_during_the_operators_call(app, signed_in, fake_twilio):
    client = signed_in("operator")
    with app.app_context():
        user = operator(app)
        call = Contact(
            channel="voice",
            provider="twilio",
            provider_sid=SID,
            status="answered",
            answered_at=utcnow(),
            answered_by_id=user.id,
            operator_call_sid="CA" + "8" * 32,
        )
        db.session.add(call)
        db.session.commit()
    with client:
        client.get("/operator/")
        html = render_template_string(PANEL)
    assert 'name="status"' in html and "csrf_token" in html
    assert "/transfer" not in html
    with app.app_context():
        operator(app).on_call_sid = SID
        db.session.commit()
    with client:
        client.get("/operator/")
        html = render_template_string(PANEL)
    assert f"/operator/voice/calls/{SID}/transfer" in html and OTHER_POINT in html
    response = post_form(
        client,
        f"/operator/voice/calls/{SID}/transfer",
        {"service_point": OTHER_POINT, "mode": "cold"},
    )
    assert response.status_code == 302
    with app.app_context():
        (leg,) = db.session.scalars(select(CallLeg)).all()
        assert (leg.kind, leg.mode, leg.status) == ("transfer", "cold", "requested")
