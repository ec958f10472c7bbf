"""The job registry: stable names in the outbox and the schedule, loud failure for a name
nobody registered, and the old dotted paths rewritten by migration 0008."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade

from hotline.jobs import periodic, registry
from hotline.jobs.outbox import add_work
from hotline.jobs.queue import get_queue
from hotline.jobs.relay import relay
from models import AuditEvent, OutboxItem, db
from models.types import utcnow


def test_every_scheduled_task_and_every_job_the_code_adds_is_registered(app):
    periodic.check()  # raises on an unknown name
    for name in ("alerts.send", "followups.send", "conversations.place_timeout"):
        assert registry.get(name).name == name
    assert registry.get("alerts.send").queue == "alerts"
    assert registry.get("alerts.send").retry == registry.SMS


def test_a_job_name_nobody_registered_fails_loudly(ctx):
    with pytest.raises(registry.UnknownJob):
        add_work("alerts.sned", {"alert_id": 1})
    with pytest.raises(registry.UnknownJob):
        registry.get("hotline.jobs.alerts.gone")
    with pytest.raises(registry.UnknownJob):
        registry.run("no.such_job")


def test_a_schedule_naming_an_unknown_job_stops_the_worker_at_start(ctx, monkeypatch):
    monkeypatch.setattr(periodic, "PERIODIC", [*periodic.PERIODIC, periodic.Periodic("x.y", 1)])
    with pytest.raises(registry.UnknownJob):
        periodic.check()


def test_one_name_cannot_be_taken_by_two_functions(app):
    with pytest.raises(ValueError, match="already taken"):
        registry.add("alerts.send", lambda alert_id: None)


def test_the_relay_fails_an_unknown_job_row_and_still_relays_the_rows_behind_it(ctx):
    now = utcnow()
    bad = OutboxItem(job="hotline.gone.module", payload={}, queue="default", available_at=now)
    db.session.add(bad)
    db.session.flush()
    good = add_work("system.heartbeat", {})
    db.session.commit()
    bad_id, good_id = bad.id, good.id

    assert relay() == 1

    db.session.remove()
    assert db.session.get(OutboxItem, bad_id).status == "failed"
    assert db.session.get(OutboxItem, bad_id).last_error == "UnknownJob"
    assert db.session.get(OutboxItem, good_id).status == "enqueued"
    (queued,) = get_queue("default").jobs
    assert queued.func_name == "hotline.jobs.registry.run"
    assert queued.args == ("system.heartbeat",)
    assert db.session.scalar(
        db.select(AuditEvent).where(
            AuditEvent.action == "outbox.failed", AuditEvent.object_id == str(bad_id)
        )
    )


def test_the_outbox_stores_the_name_and_the_queue_from_the_registry(ctx):
    item = add_work("alerts.send", {"alert_id": 7})
    assert (item.job, item.queue) == ("alerts.send", "alerts")
    db.session.rollback()


def test_migration_0008_rewrites_stored_dotted_paths_to_names_and_back(app):
    old = {
        "hotline.jobs.alerts.send_alert": "alerts.send",
        "hotline.jobs.followups.send_follow_up": "followups.send",
        "hotline.telephony.jobs.place_question_timeout": "conversations.place_timeout",
    }
    with app.app_context():
        downgrade(revision="0007_sender_lock")
        try:
            # Rows as the previous release wrote them (0008 changes data, not the schema).
            db.session.add_all(
                OutboxItem(job=path, payload={}, available_at=utcnow()) for path in old
            )
            db.session.commit()
        finally:
            upgrade()
        stored = set(db.session.scalars(db.select(OutboxItem.job)))
        assert stored == set(old.values())
        downgrade(revision="0007_sender_lock")
        try:
            assert set(db.session.scalars(db.select(OutboxItem.job))) == set(old)
        finally:
            db.session.remove()
            upgrade()
