"""Safe follow-ups with survivors who asked for them.

Only with ``consent.follow_up``, only on the chosen safe channel, only inside the safe
hours (in ``HOTLINE_TIMEZONE``), only with the neutral catalog text, never after an
opt-out. Days after the case come from ``FOLLOW_UP_DAYS`` (default 3 and 14).

Scheduling needs no hook in case creation: the periodic :func:`tick` finds consenting
cases without follow-ups, writes the FollowUp rows and their outbox work (due at the
first safe moment of the day), and cancels follow-ups to numbers that opted out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from hotline.audit import record_event
from hotline.jobs import registry
from hotline.jobs.outbox import add_work
from hotline.privacy import number_hash
from models import Case, FollowUp, OptOut, OutboundSms, db
from models.types import utcnow
from routing.hours import HoursSyntaxError, TimeWindow, parse_window

log = logging.getLogger(__name__)

SEND_JOB = "followups.send"


def delivery_mirror(follow_up: FollowUp) -> Callable[[OutboundSms], None]:
    """What ``send_once`` copies onto the follow-up from its outbound row, whichever
    channel sends it."""

    def mirror(row: OutboundSms) -> None:
        follow_up.attempts = row.attempts
        follow_up.provider_sid = row.provider_sid
        follow_up.error_code = (row.error_code or "")[:10] or None
        follow_up.sent_at = row.sent_at
        if row.status == "sent":
            follow_up.status = "sent"
        elif row.status == "failed":
            follow_up.status = "cancelled" if row.error_code == "opted-out" else "failed"

    return mirror


def follow_up_text() -> str:
    """The only text a survivor ever receives unprompted: it reads like a friend's check-in.

    No organisation, no number, nothing about violence or help (see docs/followups.md): the
    phone may be read by the person they are afraid of.
    """
    return _(
        "Hi, just checking in: how are you doing? If you would like to talk, you can "
        "call back any time."
    )


def hotline_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])


def safe_window(case: Case) -> TimeWindow | None:
    try:
        return parse_window(case.safe_hours) if case.safe_hours else None
    except HoursSyntaxError:
        return None


def next_safe_moment(case: Case, at: datetime) -> datetime | None:
    """``at`` when inside the case's safe hours, else the next start of them (UTC);
    None when the case has no usable safe hours."""
    window = safe_window(case)
    if window is None:
        return None
    return window.next_inside(at, hotline_zone()).astimezone(UTC)


def schedule_for(case: Case, now: datetime | None = None) -> list[FollowUp]:
    """Write the follow-ups of one consenting case and their outbox work."""
    now = now or utcnow()
    phone_hash = number_hash(case.safe_phone) if case.safe_phone else None
    created = []
    for days in current_app.config["FOLLOW_UP_DAYS"]:
        kind = f"day{days}"
        nominal = case.created_at + timedelta(days=days)
        due = next_safe_moment(case, max(nominal, now)) or nominal
        follow_up = FollowUp(
            case_id=case.id,
            kind=kind,
            channel=case.safe_channel,
            due_at=due,
            number_hash=phone_hash,
        )
        db.session.add(follow_up)
        db.session.flush()
        add_work(
            SEND_JOB,
            {"follow_up_id": follow_up.id},
            dedupe_key=f"followup:{follow_up.id}",
            available_at=due,
        )
        created.append(follow_up)
    case.follow_ups_scheduled_at = now
    record_event(
        "system",
        "follow_up.schedule",
        "case",
        case.reference,
        {"kinds": [f.kind for f in created], "channel": case.safe_channel},
    )
    return created


def schedule_follow_ups(now: datetime | None = None, limit: int = 200) -> int:
    """Schedule follow-ups for recent consenting cases that have none yet."""
    now = now or utcnow()
    horizon = now - timedelta(days=max(current_app.config["FOLLOW_UP_DAYS"]))
    cases = list(
        db.session.scalars(
            select(Case)
            .where(
                Case.consent_follow_up,
                Case.follow_ups_scheduled_at.is_(None),
                Case.safe_channel.in_(("sms", "call")),
                Case.purged_at.is_(None),
                Case.created_at >= horizon,
            )
            .order_by(Case.id)
            .limit(limit)
        )
    )
    count = 0
    for case in cases:
        try:
            schedule_for(case, now)
            db.session.commit()
            count += 1
        except IntegrityError:
            db.session.rollback()  # another worker scheduled it
    return count


def cancel_opted_out(now: datetime | None = None) -> int:
    """Cancel every scheduled follow-up to a number that opted out (STOP)."""
    opted_out = select(OptOut.number_hash).where(OptOut.opted_out)
    ids = list(
        db.session.scalars(
            select(FollowUp.id).where(
                FollowUp.status.in_(("scheduled", "due_call")),
                FollowUp.number_hash.in_(opted_out),
            )
        )
    )
    if ids:
        db.session.execute(
            update(FollowUp)
            .where(FollowUp.id.in_(ids), FollowUp.status.in_(("scheduled", "due_call")))
            .values(status="cancelled", error_code="opted-out")
            .execution_options(synchronize_session=False)
        )
        for follow_up_id in ids:
            record_event(
                "system", "follow_up.cancel", "follow_up", follow_up_id, {"reason": "opt_out"}
            )
    db.session.commit()
    return len(ids)


def cancel_for_number(e164: str) -> int:
    """For the SMS flow's STOP handling: cancel this number's follow-ups now (the
    periodic sweep would within seconds anyway). The caller commits."""
    ids = list(
        db.session.scalars(
            select(FollowUp.id).where(
                FollowUp.status.in_(("scheduled", "due_call")),
                FollowUp.number_hash == number_hash(e164),
            )
        )
    )
    for follow_up_id in ids:
        db.session.get(FollowUp, follow_up_id).status = "cancelled"
        record_event(
            "system", "follow_up.cancel", "follow_up", follow_up_id, {"reason": "opt_out"}
        )
    return len(ids)


def tick() -> int:
    """The periodic part: schedule new follow-ups, cancel opted-out ones."""
    return schedule_follow_ups() + cancel_opted_out()


registry.add("followups.tick", tick)
