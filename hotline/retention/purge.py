"""Retention: shred free text and recordings after ``RETENTION_DAYS``, keep the codes.

Shredding sets the personal fields to NULL (the ciphertext goes with them); the coded
fields the statistics use (place, sex, age band, violence types, risk, outcome services)
stay. Cases on legal hold, and the contacts and messages behind them, are skipped.
Re-running finds nothing new to shred, so the daily job is idempotent.

A voicemail's audio also lives at the provider: shredding a contact with a recording adds
``retention.delete_recording`` to the outbox in the same transaction, which deletes the
provider's copy (retried with backoff; "already gone" is done) and records
``recording.delete``. Audit rows are only ever added here, never changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, or_, select, update

from hotline.audit import record_event
from hotline.jobs import registry
from hotline.jobs.outbox import add_work
from hotline.telephony.recordings import delete_recording
from models import Case, CaseNote, Contact, Message, Referral, Task, db
from models.types import utcnow

BATCH = 500


@dataclass
class PurgeResult:
    cases: int = 0
    contacts: int = 0
    messages: int = 0

    @property
    def total(self) -> int:
        return self.cases + self.contacts + self.messages


def _held_contact():
    """Contacts linked to a case on legal hold."""
    return exists().where(Case.contact_id == Contact.id, Case.legal_hold.is_(True))


def _expired_case_ids(cutoff: datetime) -> list[int]:
    return list(
        db.session.scalars(
            select(Case.id)
            .where(
                Case.created_at < cutoff,
                Case.legal_hold.is_(False),
                Case.purged_at.is_(None),
            )
            .order_by(Case.id)
        )
    )


def _expired_contact_ids(cutoff: datetime) -> list[int]:
    return list(
        db.session.scalars(
            select(Contact.id)
            .where(
                Contact.started_at < cutoff,
                or_(Contact.caller_number.is_not(None), Contact.recording_url.is_not(None)),
                ~_held_contact(),
            )
            .order_by(Contact.id)
        )
    )


def _expired_message_ids(cutoff: datetime) -> list[int]:
    held = exists().where(
        or_(Case.contact_id == Message.contact_id, Case.id == Message.case_id),
        Case.legal_hold.is_(True),
    )
    return list(
        db.session.scalars(
            select(Message.id)
            .where(Message.created_at < cutoff, Message.body.is_not(None), ~held)
            .order_by(Message.id)
        )
    )


def _batches(ids: list[int]):
    for i in range(0, len(ids), BATCH):
        yield ids[i : i + BATCH]


def count_expired(days: int | None = None, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - timedelta(days=days or current_app.config["RETENTION_DAYS"])
    return (
        len(_expired_case_ids(cutoff))
        + len(_expired_contact_ids(cutoff))
        + len(_expired_message_ids(cutoff))
    )


def purge_expired(
    days: int | None = None,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> PurgeResult:
    """Shred personal free text older than the retention period; commit batch by batch.

    ``progress`` is called with the number of rows done after each batch (for a progress
    bar). Safe to call from a scheduled job: it takes no arguments it needs from a request.
    """
    now = now or utcnow()
    days = days or current_app.config["RETENTION_DAYS"]
    cutoff = now - timedelta(days=days)
    result = PurgeResult()

    def shred(ids: list[int], model, values: dict, key=None) -> None:
        db.session.execute(
            update(model)
            .where((key if key is not None else model.id).in_(ids))
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    def in_batches(id_query, shred_batch) -> int:
        done = 0
        for ids in _batches(id_query):
            shred_batch(ids)
            db.session.commit()
            done += len(ids)
            if progress:
                progress(len(ids))
        return done

    def shred_cases(ids: list[int]) -> None:
        shred(ids, Case, {"notes": None, "safe_phone": None, "safe_hash": None, "purged_at": now})
        shred(ids, CaseNote, {"text": None}, key=CaseNote.case_id)
        shred(ids, Task, {"note": None}, key=Task.case_id)
        shred(
            ids,
            Referral,
            {"outcome_notes": None, "decline_reason": None, "override_reason": None},
            key=Referral.case_id,
        )

    result.cases = in_batches(_expired_case_ids(cutoff), shred_cases)

    def shred_contacts(ids: list[int]) -> None:
        for contact_id, sid in db.session.execute(
            select(Contact.id, Contact.recording_sid).where(
                Contact.id.in_(ids),
                Contact.recording_url.is_not(None),
                Contact.recording_sid.is_not(None),
            )
        ):
            add_work(
                "retention.delete_recording",
                {"contact_id": contact_id, "recording_sid": sid},
                dedupe_key=f"recording-delete:{sid}",
            )
        shred(ids, Contact, {"caller_number": None, "recording_url": None})
        shred(ids, Task, {"note": None}, key=Task.contact_id)

    result.contacts = in_batches(_expired_contact_ids(cutoff), shred_contacts)
    result.messages = in_batches(
        _expired_message_ids(cutoff), lambda ids: shred(ids, Message, {"body": None})
    )

    if result.total:
        record_event(
            "system",
            "retention.purge",
            "retention",
            details={
                "days": days,
                "cases": result.cases,
                "contacts": result.contacts,
                "messages": result.messages,
            },
        )
        db.session.commit()
    db.session.expire_all()
    return result


registry.add("retention.purge", purge_expired)


@registry.register("retention.delete_recording", retry=registry.DEFAULT)
def delete_provider_recording(contact_id: int, recording_sid: str) -> str:
    """Delete the provider's copy of a shredded voicemail; raise to be retried."""
    outcome = delete_recording(recording_sid)
    record_event(
        "system",
        "recording.delete",
        "contact",
        contact_id,
        {"recording_sid": recording_sid, "outcome": outcome},
    )
    db.session.commit()
    return outcome
