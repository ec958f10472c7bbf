"""Follow-ups: only with consent, on the safe channel, inside the safe hours, with neutral
text, never after an opt-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from hotline.followups.schedule import schedule_follow_ups
from hotline.privacy import number_hash
from models import FollowUp, OptOut, OutboxItem, db
from models.types import utcnow
from routing.hours import parse_window
from tests.factories import ALERT_CASE, CANARY_E164, new_case

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FORBIDDEN = ("18001769", "bạo lực", "violence", "tạm lánh", "shelter", "đường dây", "hotline")


def window_around_now(inside: bool) -> str:
    """Safe hours that contain the current local time, or that start in three hours."""
    local = datetime.now(TZ)
    start = local - timedelta(hours=1) if inside else local + timedelta(hours=3)
    end = start + timedelta(hours=2)
    return f"{start:%H:%M}-{end:%H:%M}"


def consenting_case(hours: str, channel: str = "sms"):
    return new_case(
        base=ALERT_CASE,
        consent={"referral": True, "follow_up": True, "reporting": True},
        safe_contact={"channel": channel, "phone": "0900 777 111", "hours": hours},
    )


def make_due_now() -> None:
    """Bring every scheduled follow-up (and its outbox work) to now, as day 3 would."""
    now = utcnow()
    db.session.execute(update(FollowUp).values(due_at=now))
    db.session.execute(
        update(OutboxItem).where(OutboxItem.job == "followups.send").values(available_at=now)
    )
    db.session.commit()


def test_consenting_case_gets_day_3_and_day_14_follow_ups_inside_its_safe_hours(directory):
    case = consenting_case("20:00-22:00")

    assert schedule_follow_ups() == 1
    assert schedule_follow_ups() == 0

    follow_ups = db.session.scalars(db.select(FollowUp).order_by(FollowUp.due_at)).all()
    assert [f.kind for f in follow_ups] == ["day3", "day14"]
    window = parse_window("20:00-22:00")
    for f, days in zip(follow_ups, (3, 14), strict=True):
        assert window.contains(f.due_at, TZ)
        assert f.due_at >= case.created_at + timedelta(days=days)
        assert f.due_at - (case.created_at + timedelta(days=days)) < timedelta(days=1)
        assert f.channel == "sms" and f.number_hash == number_hash(CANARY_E164)


def test_no_follow_up_without_consent(directory):
    new_case(
        base=ALERT_CASE,
        consent={"referral": True, "follow_up": False, "reporting": True},
        safe_contact={"channel": "sms", "phone": "0900 777 111", "hours": "09:00-11:00"},
    )
    assert schedule_follow_ups() == 0
    assert db.session.query(FollowUp).count() == 0


def test_follow_up_due_outside_the_safe_hours_waits_for_the_next_window(
    directory, fake_twilio, run_burst
):
    hours = window_around_now(inside=False)
    consenting_case(hours)
    schedule_follow_ups()
    make_due_now()

    run_burst()

    sms_to_survivor = [m for m in fake_twilio.messages if m.form["To"] == CANARY_E164]
    assert sms_to_survivor == []
    db.session.remove()
    follow_ups = db.session.scalars(db.select(FollowUp)).all()
    assert {f.status for f in follow_ups} == {"scheduled"}
    window = parse_window(hours)
    for f in follow_ups:
        assert f.due_at > utcnow() and window.contains(f.due_at, TZ)
        waiting = db.session.scalar(
            db.select(OutboxItem).where(
                OutboxItem.dedupe_key.like(f"followup:{f.id}:%"), OutboxItem.status == "pending"
            )
        )
        assert waiting is not None and waiting.available_at == f.due_at


def test_follow_up_inside_the_safe_hours_is_sent_once_with_neutral_text(
    directory, fake_twilio, run_burst
):
    consenting_case(window_around_now(inside=True))
    schedule_follow_ups()
    make_due_now()

    run_burst()
    run_burst()

    sent = [m for m in fake_twilio.messages if m.form["To"] == CANARY_E164]
    assert len(sent) == 2  # day 3 and day 14, both brought to now here
    for message in sent:
        body = message.form["Body"].lower()
        assert not any(word.lower() in body for word in FORBIDDEN), body
        assert "canary" not in body
    db.session.remove()
    assert {f.status for f in db.session.scalars(db.select(FollowUp))} == {"sent"}


def test_opt_out_cancels_pending_follow_ups(directory, fake_twilio, run_burst):
    consenting_case(window_around_now(inside=True))
    schedule_follow_ups()
    # What the SMS flow records when the survivor's phone sends STOP:
    db.session.add(OptOut(number_hash=number_hash(CANARY_E164), opted_out=True))
    db.session.commit()
    make_due_now()

    run_burst()

    assert [m for m in fake_twilio.messages if m.form["To"] == CANARY_E164] == []
    db.session.remove()
    assert {f.status for f in db.session.scalars(db.select(FollowUp))} == {"cancelled"}


def test_opt_out_after_the_job_was_queued_still_sends_nothing(directory, fake_twilio, app):
    from hotline.followups.jobs import send_follow_up

    consenting_case(window_around_now(inside=True))
    schedule_follow_ups()
    make_due_now()
    db.session.add(OptOut(number_hash=number_hash(CANARY_E164), opted_out=True))
    db.session.commit()
    ids = db.session.scalars(db.select(FollowUp.id)).all()

    assert [send_follow_up(i) for i in ids] == ["cancelled", "cancelled"]
    assert fake_twilio.messages == []


def test_call_channel_becomes_a_call_task_for_operators(directory, fake_twilio, run_burst):
    consenting_case(window_around_now(inside=True), channel="call")
    schedule_follow_ups()
    make_due_now()

    run_burst()

    assert fake_twilio.messages[1:] == []  # only the referral alert
    db.session.remove()
    assert {f.status for f in db.session.scalars(db.select(FollowUp))} == {"due_call"}


def test_follow_up_days_are_configurable(directory, app):
    from tests.conftest import config

    with config(app, FOLLOW_UP_DAYS=[1, 7, 30]):
        case = consenting_case("00:00-23:59")
        schedule_follow_ups()
    kinds = db.session.scalars(
        db.select(FollowUp.kind).where(FollowUp.case_id == case.id).order_by(FollowUp.due_at)
    ).all()
    assert kinds == ["day1", "day7", "day30"]
    assert datetime.now(UTC) < db.session.scalars(db.select(FollowUp.due_at)).first()
