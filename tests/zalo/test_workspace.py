"""Zalo in the operators' workspace: STOP, replies inside Zalo's 48-hour window, the
board, follow-ups held outside the window, and the user id kept out of logs."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, text, update

from hotline.followups.jobs import send_follow_up
from hotline.privacy import number_hash
from hotline.telephony import SendError
from hotline.telephony.zalo import api
from models import Case, DevOutboxMessage, FollowUp, Message, OptOut, Task, db
from models.types import utcnow
from tests.zalo.conftest import USER

CANARY_TEXT = "canary-zalo-reply-7781"


def zalo_case(app, zalo) -> str:
    zalo.text("Cứu em với, em đang ở xã Tiên Yên")
    with app.app_context():
        return db.session.scalars(select(Case.reference)).one()


def age_inbound(app, hours: float) -> None:
    """Make the user's messages ``hours`` old."""
    with app.app_context():
        db.session.execute(
            update(Message)
            .where(Message.direction == "in")
            .values(created_at=utcnow() - timedelta(hours=hours))
        )
        db.session.commit()


def reply(client, reference: str, headers):
    return client.post(
        f"/api/v1/cases/{reference}/messages", json={"text": CANARY_TEXT}, headers=headers
    )


def test_an_operator_reply_inside_48_hours_goes_to_the_zalo_user(
    app, demo, zalo, client, token_for, run_burst
):
    reference = zalo_case(app, zalo)
    headers = token_for("operator")
    age_inbound(app, 47)  # past SMS's 24 hours, inside Zalo's 48
    response = reply(client, reference, headers)
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["to"] == "conversation"
    run_burst()
    with app.app_context():
        outbox = db.session.scalars(select(DevOutboxMessage)).all()
        sent = [m for m in outbox if m.body == CANARY_TEXT]
        assert [m.to for m in sent] == ["zalo:" + USER]
    case = client.get(f"/api/v1/cases/{reference}", headers=headers).get_json()
    assert [m["status"] for m in case["messages"] if m["text"] == CANARY_TEXT] == ["sent"]


def test_an_operator_reply_after_48_hours_is_refused(app, demo, zalo, client, token_for):
    reference = zalo_case(app, zalo)
    age_inbound(app, 49)
    response = reply(client, reference, token_for("operator"))
    assert response.status_code == 409
    assert response.get_json()["reason"] == "no_consent"
    assert "48" in response.get_json()["error"]
    with app.app_context():
        assert (
            db.session.scalars(select(Message).where(Message.sent_by_id.is_not(None))).all() == []
        )


def test_stop_on_zalo_answers_once_then_nothing_more_is_started(
    app, demo, zalo, client, token_for, run_burst
):
    reference = zalo_case(app, zalo)
    zalo.text("DỪNG")
    run_burst()
    with app.app_context():
        assert db.session.get(OptOut, number_hash("zalo:" + USER)).opted_out is True
        outbox = db.session.scalars(select(DevOutboxMessage).order_by(DevOutboxMessage.id)).all()
        assert "START" in outbox[-1].body  # the answer to STOP itself still goes
        before = len(outbox)
    response = reply(client, reference, token_for("operator"))
    assert (response.status_code, response.get_json()["reason"]) == (409, "opted_out")
    with app.app_context():
        try:
            api.send_message(USER, "x")
        except SendError as exc:
            assert exc.permanent and exc.code == "opted-out"
        else:
            raise AssertionError("a message to an opted-out Zalo user was sent")
    run_burst()
    with app.app_context():
        assert len(db.session.scalars(select(DevOutboxMessage)).all()) == before
    zalo.text("START")
    with app.app_context():
        assert db.session.get(OptOut, number_hash("zalo:" + USER)).opted_out is False


def test_unfollowing_the_oa_is_a_stop(zalo, ctx):
    response = zalo.post(zalo.event("unfollow", follower={"id": USER}))
    assert response.status_code == 200
    assert db.session.get(OptOut, number_hash("zalo:" + USER)).opted_out is True


def test_the_board_shows_the_zalo_conversation_labelled(app, demo, zalo, signed_in):
    zalo.text("xin chào, tôi cần giúp")
    page = signed_in("operator").get("/operator/").get_data(as_text=True)
    assert "Zalo" in page and "tôi cần giúp" in page
    assert USER not in page  # masked like a number


def _follow_up(app, reference: str) -> int:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.reference == reference)).one()
        case.consent_follow_up = True
        case.safe_channel, case.safe_phone, case.safe_hours = "sms", "+84912345678", "00:00-23:59"
        follow_up = FollowUp(
            case_id=case.id,
            kind="day3",
            channel="sms",
            due_at=utcnow(),
            number_hash=number_hash("+84912345678"),
        )
        db.session.add(follow_up)
        db.session.commit()
        return follow_up.id


def test_a_follow_up_outside_the_48_hour_window_is_held_for_an_operator(app, demo, zalo):
    reference = zalo_case(app, zalo)
    age_inbound(app, 49)
    follow_up_id = _follow_up(app, reference)
    with app.app_context():
        before = len(db.session.scalars(select(DevOutboxMessage)).all())
        assert send_follow_up(follow_up_id) == "held"
        db.session.remove()
        follow_up = db.session.get(FollowUp, follow_up_id)
        assert (follow_up.status, follow_up.sent_at) == ("due_call", None)
        task = db.session.scalars(select(Task).where(Task.follow_up_id == follow_up_id)).one()
        assert task.kind == "follow_up_call"
        assert len(db.session.scalars(select(DevOutboxMessage)).all()) == before


def test_a_follow_up_inside_the_window_goes_by_zalo(app, demo, zalo):
    reference = zalo_case(app, zalo)
    follow_up_id = _follow_up(app, reference)
    with app.app_context():
        assert send_follow_up(follow_up_id) == "sent"
        db.session.remove()
        assert db.session.get(FollowUp, follow_up_id).channel == "zalo"
        last = db.session.scalars(
            select(DevOutboxMessage).order_by(DevOutboxMessage.id.desc())
        ).first()
        assert last.to == "zalo:" + USER and "113" not in last.body


def test_the_zalo_user_id_is_stored_only_encrypted_and_never_logged(
    app, zalo, directory, caplog, run_burst
):
    caplog.set_level(logging.DEBUG)
    zalo.text("em ở Bãi Cháy")
    zalo.post(zalo.event("unfollow", follower={"id": USER}))
    run_burst()
    assert USER not in caplog.text
    dumps = []
    for table, columns in {
        "contact": "caller_number, caller_hash",
        "inbound_journal": "sender, sender_hash",
        "opt_out": "number_hash",
        "outbound_sms": "body",
        "dev_outbox_message": '"to"',
    }.items():
        query = text(f"SELECT {columns} FROM {table}")  # noqa: S608 - fixed names
        dumps += [str(r) for r in db.session.execute(query)]
    assert dumps and not any(USER in d for d in dumps)
