"""Warm and cold transfers to a service point's duty phone (DESIGN.md section 13), and the
operators' availability API: through the JSON API, signed webhooks and the fake Twilio
REST API (the requests that reach it are asserted)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.accounts.users import create_user, issue_token
from models import CallLeg, Case, Referral, ServicePoint, Task, User, db
from tests.conversations.test_voice_queue import LEG, ask_for_counsellor, contact, run_jobs
from tests.conversations.test_voice_queue import operator_takes as takes
from tests.webclient import OTHER_POINT, ROLE_USERS
from tests.webhooks import BASE, xml

A = "CA" + "f" * 32


@pytest.fixture
def answered(ctx, demo, twilio, fake_twilio):
    """A caller answered by the demo operator (the only operator on duty), with a case
    linked to the call; the test runs in an application context."""
    db.session.execute(db.update(User).where(User.role == "operator").values(on_duty=False))
    operator = db.session.scalar(select(User).where(User.username == ROLE_USERS["operator"]))
    operator.on_duty = True
    db.session.commit()
    takes(twilio, ask_for_counsellor(twilio, A), A, operator.phone)
    from tests.factories import new_case

    case = new_case(actor=operator, contact_sid=A)
    return operator, case


def transfer(client, token_for, mode, code=OTHER_POINT, sid=A, who="operator"):
    return client.post(
        f"/api/v1/calls/{sid}/transfer",
        json={"service_point": code, "mode": mode},
        headers=token_for(who),
    )


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_transfer_brings_the_duty_phone_into_a_conference(
    client, token_for, twilio, fake_twilio, answered, mode
):
    _operator, case = answered
    point = db.session.scalar(select(ServicePoint).where(ServicePoint.code == OTHER_POINT))
    response = transfer(client, token_for, mode)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert (body["service_point"], body["mode"], body["call_sid"]) == (OTHER_POINT, mode, A)
    assert run_jobs("voice.transfer") == ["ringing"]

    room = contact(A).conference
    # The operator's leg is moved into the conference ...
    (move,) = fake_twilio.call_updates
    assert fake_twilio.call_of(move) == LEG
    assert "<Conference" in move.form["Twiml"] and room in move.form["Twiml"]
    # ... the caller follows it when their <Dial> ends ...
    root = xml(twilio.step(f"{BASE}/twilio/voice/dial-done?n=2", A, DialCallStatus="completed"))
    assert root.find("Dial").find("Conference").text == room
    # ... and the point's duty phone is rung into the same conference.
    (participant,) = fake_twilio.participants
    assert fake_twilio.conference_of(participant) == room
    assert participant.form["To"] == point.alert_phone
    assert participant.form["StatusCallback"] == f"{BASE}/twilio/status"
    assert participant.form["EndConferenceOnExit"] == ("true" if mode == "cold" else "false")

    twilio.status(CallSid=participant.sid, CallStatus="in-progress", To=point.alert_phone)
    referral = db.session.scalar(
        select(Referral).where(Referral.case_id == case.id, Referral.service_point_id == point.id)
    )
    assert referral is not None and referral.status == "accepted"
    assert referral.accepted_at is not None and referral.chosen_by == "operator"
    leaves = run_jobs("voice.leave_conference")
    hangups = [u for u in fake_twilio.call_updates if u.form.get("Status") == "completed"]
    if mode == "cold":
        # The operator leaves once the point answered.
        assert leaves == ["left"]
        assert [fake_twilio.call_of(u) for u in hangups] == [LEG]
    else:
        assert leaves == [] and hangups == []


def test_a_point_that_does_not_answer_leaves_a_task(
    client, token_for, twilio, fake_twilio, answered
):
    _operator, case = answered
    assert transfer(client, token_for, "warm").status_code == 202
    run_jobs("voice.transfer")
    (participant,) = fake_twilio.participants
    twilio.status(CallSid=participant.sid, CallStatus="no-answer")
    leg = db.session.scalar(select(CallLeg).where(CallLeg.sid == participant.sid))
    assert leg.status == "unanswered"
    task = db.session.scalar(select(Task).where(Task.case_id == case.id))
    assert task is not None and task.kind == "referral_declined" and task.status == "open"
    db.session.expire_all()
    assert not [r for r in db.session.get(Case, case.id).referrals if r.status == "accepted"]


def test_transfer_of_a_call_that_is_not_the_operators_is_404(
    app, client, token_for, twilio, fake_twilio, answered
):
    other = create_user("other-op", password="x" * 16, role="operator", phone="+84900400099")
    db.session.flush()
    token = issue_token(other)
    db.session.commit()
    response = client.post(
        f"/api/v1/calls/{A}/transfer",
        json={"service_point": OTHER_POINT, "mode": "warm"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 404
    assert transfer(client, token_for, "warm", sid="CA" + "0" * 32).status_code == 404
    assert transfer(client, token_for, "warm", who="social_worker").status_code == 403
    assert fake_twilio.participants == [] and fake_twilio.call_updates == []


def test_transfer_to_a_point_without_duty_phone_is_422(
    client, token_for, twilio, fake_twilio, answered
):
    point = db.session.scalar(select(ServicePoint).where(ServicePoint.code == OTHER_POINT))
    point.alert_phone = None
    db.session.commit()
    response = transfer(client, token_for, "warm")
    assert response.status_code == 422
    assert "service_point" in response.get_json()["errors"]
    response = transfer(client, token_for, "lukewarm")
    assert response.status_code == 422 and "mode" in response.get_json()["errors"]
    assert db.session.scalars(select(CallLeg)).all() == []


# --- availability ----------------------------------------------------------------------------


def test_operators_set_their_availability(client, token_for, ctx, demo):
    auth = token_for("operator")
    for status in ("busy", "away", "available"):
        response = client.put("/api/v1/me/availability", json={"status": status}, headers=auth)
        assert response.status_code == 200
        assert response.get_json()["status"] == status
        db.session.expire_all()
        user = db.session.scalar(select(User).where(User.username == ROLE_USERS["operator"]))
        assert user.availability == status and user.availability_changed_at is not None


@pytest.mark.parametrize("body", [{"status": "asleep"}, {}, ["busy"], {"status": None}])
def test_a_bad_availability_is_422(client, token_for, ctx, demo, body):
    response = client.put("/api/v1/me/availability", json=body, headers=token_for("operator"))
    assert response.status_code == 422


@pytest.mark.parametrize("role", ["social_worker", "manager", "admin"])
def test_other_roles_cannot_set_availability(client, token_for, ctx, demo, role):
    response = client.put(
        "/api/v1/me/availability", json={"status": "busy"}, headers=token_for(role)
    )
    assert response.status_code == 403


def test_an_operator_back_to_available_is_offered_the_waiting_caller(
    client, token_for, twilio, fake_twilio, ctx, demo
):
    db.session.execute(db.update(User).where(User.role == "operator").values(on_duty=False))
    operator = db.session.scalar(select(User).where(User.username == ROLE_USERS["operator"]))
    operator.on_duty = True
    operator.availability = "busy"
    db.session.commit()
    root = ask_for_counsellor(twilio, A)
    assert root.find("Enqueue") is not None
    auth = token_for("operator")
    assert (
        client.put(
            "/api/v1/me/availability", json={"status": "available"}, headers=auth
        ).status_code
        == 200
    )
    assert run_jobs("voice.offer") == ["offered"]
    assert [c.form["To"] for c in fake_twilio.calls] == [operator.phone]


def test_the_worker_runs_the_transfer_job_by_its_name(
    client, token_for, twilio, fake_twilio, answered, run_burst
):
    assert transfer(client, token_for, "warm").status_code == 202
    db.session.remove()
    run_burst()
    (participant,) = fake_twilio.participants
    leg = db.session.scalar(select(CallLeg))
    assert leg.sid == participant.sid and leg.status == "ringing"


def test_a_transfer_made_before_the_intake_becomes_the_case_s_accepted_referral(
    client, token_for, ctx, demo, twilio, fake_twilio
):
    """The operator hands the caller to the trusted address first and fills in the intake
    after the call: the case starts with that point's accepted referral."""
    from tests.factories import new_case

    db.session.execute(db.update(User).where(User.role == "operator").values(on_duty=False))
    operator = db.session.scalar(select(User).where(User.username == ROLE_USERS["operator"]))
    operator.on_duty = True
    db.session.commit()
    takes(twilio, ask_for_counsellor(twilio, A), A, operator.phone)
    assert transfer(client, token_for, "cold").status_code == 202
    run_jobs("voice.transfer")
    (participant,) = fake_twilio.participants
    point = db.session.scalar(select(ServicePoint).where(ServicePoint.code == OTHER_POINT))
    twilio.status(CallSid=participant.sid, CallStatus="in-progress", To=point.alert_phone)
    assert (
        db.session.scalar(select(CallLeg.referral_id).where(CallLeg.sid == participant.sid))
        is None
    )

    case = new_case(actor=operator, contact_sid=A)
    transferred = [r for r in case.referrals if r.service_point_id == point.id]
    assert [(r.status, r.reason) for r in transferred] == [("accepted", "cold transfer")]
    assert (
        db.session.scalar(select(CallLeg.referral_id).where(CallLeg.sid == participant.sid))
        == transferred[0].id
    )
    again = new_case(actor=operator, contact_sid=A)  # a second case of the call gets no copy
    assert not [r for r in again.referrals if r.service_point_id == point.id]
