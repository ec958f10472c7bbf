"""Send one SMS at most once per piece of work, even when the job runs twice or dies.

The pattern (see docs/jobs.md, "Exactly one SMS"):

1. The work's :class:`~models.OutboundSms` row is *claimed* — status ``sending``, a
   short lease, the rendered text — and committed **before** the provider call.
2. The provider call; on success the provider's id and ``sent`` are committed at once.
3. A later run that finds the row still ``sending`` (a crash, a timeout, an HTTP 5xx:
   the provider may or may not have the message) first asks the provider for a message
   with the same text to the same number since the first claim, and adopts it if found.

Temporary failures raise :class:`RetryLater` (RQ retries the job with backoff);
permanent ones mark the row ``failed`` and return.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from hotline.telephony import SendError, SendResult
from hotline.telephony.outbound import find_sent, send_sms
from hotline.telephony.smsgateway import message_id
from models import OutboundSms, db
from models.types import utcnow

log = logging.getLogger(__name__)

#: How long a claim keeps other runs of the same work away: longer than the provider
#: client's timeout (10 s) plus the commit; shorter than RQ's detection of a dead worker.
LEASE = timedelta(seconds=15)
#: How far before the first claim a provider message still counts as ours (clock skew).
LOOKUP_SLACK = timedelta(minutes=2)


class RetryLater(Exception):
    """A temporary failure: the job raises it so RQ retries with backoff. The message
    holds codes only."""


@dataclass(frozen=True)
class Delivery:
    """What happened to one piece of work: ``sent`` (now or earlier), ``failed``, ``skipped``."""

    status: str
    provider_sid: str | None = None
    error_code: str | None = None
    #: True when this run handed the message to the provider or found it there.
    new: bool = False


def provider_message_id(row: OutboundSms) -> str:
    """The message id a deduplicating provider gets for this work: the same on every
    run (it is derived from the row and its first claim), unique to it."""
    return message_id(row.key, row.id, row.first_claimed_at)


def outbound_row(key: str, *, purpose: str, recipient: str | None, case_id: int | None):
    """The row for ``key``, created (and committed) the first time."""
    row = db.session.scalar(select(OutboundSms).where(OutboundSms.key == key))
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = OutboundSms(key=key, purpose=purpose, recipient=recipient, case_id=case_id)
            db.session.add(row)
    except IntegrityError:
        row = db.session.scalar(select(OutboundSms).where(OutboundSms.key == key))
    db.session.commit()
    return row


def skip(key: str, *, purpose: str, recipient: str | None, case_id: int | None, code: str):
    """Record that this work will not be sent (no consent, no phone, …)."""
    row = outbound_row(key, purpose=purpose, recipient=recipient, case_id=case_id)
    if row.status in ("pending",):
        row.status = "skipped"
        row.error_code = code
        db.session.commit()
    return row


def send_once(
    key: str,
    *,
    to: str | None,
    render: Callable[[], str],
    purpose: str,
    recipient: str | None = None,
    case_id: int | None = None,
    mirror: Callable[[OutboundSms], None] | None = None,
    send: Callable[..., SendResult] | None = None,
    find: Callable[..., str | None] | None = None,
    keyed: bool = False,
) -> Delivery:
    """Send the SMS for ``key`` unless it was sent already; see the module docstring.

    ``mirror`` copies the row's state onto the record it is about (an Alert, a FollowUp)
    inside the same commits. Raises :class:`RetryLater` for temporary failures.
    ``send`` and ``find`` replace the SMS provider's (another channel's client; ``find``
    None there means the provider cannot be asked, and an interrupted send is sent again).
    With ``keyed`` (always for the SMS provider's), both also get ``key=``, the work's
    stable message id (:func:`provider_message_id`), which SMS gateways deduplicate on.
    """
    keyed = keyed or send is None or send is send_sms
    send = send or send_sms
    if find is None:
        find = find_sent if send is send_sms else (lambda _to, _body, _since, **_kw: None)
    row = outbound_row(key, purpose=purpose, recipient=recipient, case_id=case_id)

    def commit() -> None:
        if mirror is not None:
            mirror(row)
        db.session.commit()

    if row.status in ("sent", "failed", "skipped"):
        return Delivery(row.status, row.provider_sid, row.error_code)
    if not to:
        row.status, row.error_code = "failed", "no-phone"
        commit()
        return Delivery("failed", None, "no-phone", new=True)

    now = utcnow()
    if row.lease_until is not None and row.lease_until > now:
        raise RetryLater(f"{key} is being sent by another run")
    previous_status, previous_attempts = row.status, row.attempts
    body = row.body or render()
    claimed = db.session.execute(
        update(OutboundSms)
        .where(
            OutboundSms.id == row.id,
            OutboundSms.status == previous_status,
            OutboundSms.attempts == previous_attempts,
        )
        .values(
            status="sending",
            attempts=previous_attempts + 1,
            lease_until=now + LEASE,
            first_claimed_at=row.first_claimed_at or now,
            body=body,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        raise RetryLater(f"{key} was claimed by another run")
    db.session.commit()
    db.session.refresh(row)
    if mirror is not None:
        commit()
    ids = {"key": provider_message_id(row)} if keyed else {}

    if previous_status == "sending":
        # An earlier run may have reached the provider before it died or timed out.
        try:
            sid = find(to, body, row.first_claimed_at - LOOKUP_SLACK, **ids)
        except SendError as exc:
            row.lease_until, row.error_code = None, exc.code[:20]
            commit()
            raise RetryLater(f"{key}: provider lookup failed ({exc.code})") from None
        if sid is not None:
            log.info("outbound %s: found at the provider after an interrupted send", row.id)
            row.status, row.provider_sid, row.sent_at = "sent", sid, row.sent_at or utcnow()
            row.lease_until, row.error_code = None, None
            commit()
            return Delivery("sent", sid, None, new=True)

    try:
        result = send(to, body, **ids)
    except SendError as exc:
        row.lease_until, row.error_code = None, exc.code[:20]
        if exc.permanent:
            row.status = "failed"
            commit()
            log.warning("outbound %s: permanent failure %s", row.id, exc.code)
            return Delivery("failed", None, exc.code, new=True)
        # Outcome unknown (5xx, timeout): stay "sending" so the retry looks first.
        commit()
        raise RetryLater(f"{key}: temporary failure {exc.code}") from None
    except Exception:
        db.session.rollback()
        row = db.session.get(OutboundSms, row.id)
        row.lease_until = None
        db.session.commit()
        raise
    row.status, row.provider_sid, row.sent_at = "sent", result.sid, utcnow()
    row.lease_until, row.error_code = None, None
    commit()
    return Delivery("sent", result.sid, None, new=True)
