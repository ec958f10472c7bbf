"""Retention deletes the provider's copy of a voicemail (DESIGN.md section 15), against the
fake Twilio REST API over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.jobs import registry
from hotline.jobs.context import JobFailed
from hotline.retention.purge import purge_expired
from models import AuditEvent, Contact, OutboxItem, db
from models.types import utcnow

SID = "RE" + "a" * 32


@pytest.fixture
def old_voicemail(app, make_contact, fake_twilio) -> int:
    url = fake_twilio.add_recording(SID)
    return make_contact(
        "voice",
        body=None,
        recording_url=url,
        recording_sid=SID,
        started_at=utcnow() - timedelta(days=400),
        ended_at=utcnow() - timedelta(days=400),
    )


def _run(payload: dict):
    return registry.run("retention.delete_recording", **payload)


def test_purge_queues_the_deletion_and_the_job_deletes_it_retrying_a_500(
    app, old_voicemail, fake_twilio
):
    with app.app_context():
        purge_expired()
        assert db.session.get(Contact, old_voicemail).recording_url is None
        [item] = db.session.scalars(
            db.select(OutboxItem).where(OutboxItem.job == "retention.delete_recording")
        ).all()
        payload = dict(item.payload)
        assert payload == {"contact_id": old_voicemail, "recording_sid": SID}
        purge_expired()  # nothing new: no second deletion
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxItem)) == 1
        assert registry.retry_policy("retention.delete_recording") is not None

    fake_twilio.fail_next(500, 20500)
    with app.app_context(), pytest.raises(JobFailed):
        _run(payload)  # RQ retries it with backoff
    assert fake_twilio.deleted == []
    with app.app_context():
        assert _run(payload) == "deleted"
    assert fake_twilio.deleted == [SID]
    deletes = [r for r in fake_twilio.requests if r.method == "DELETE"]
    assert [r.path for r in deletes] == [
        f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Recordings/{SID}.json"
    ] * 2
    with app.app_context():
        [event] = db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.action == "recording.delete")
        ).all()
        assert event.object_id == str(old_voicemail)
        assert event.details == {"recording_sid": SID, "outcome": "deleted"}


def test_a_recording_already_gone_counts_as_done(app, old_voicemail, fake_twilio):
    payload = {"contact_id": old_voicemail, "recording_sid": SID}
    with app.app_context():
        assert _run(payload) == "deleted"
        assert _run(payload) == "gone"  # 404: idempotent
        outcomes = db.session.scalars(
            db.select(AuditEvent.details).where(AuditEvent.action == "recording.delete")
        ).all()
    assert [o["outcome"] for o in outcomes] == ["deleted", "gone"]


def test_purge_changes_no_audit_row(app, old_voicemail):
    with app.app_context():
        db.session.add(AuditEvent(actor_label="cli", action="case.view", object_type="case"))
        db.session.commit()
        before = db.session.execute(db.select(AuditEvent.id, AuditEvent.action)).all()
        purge_expired()
        after = db.session.execute(db.select(AuditEvent.id, AuditEvent.action)).all()
    assert after[: len(before)] == before
