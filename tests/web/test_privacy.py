"""Retention purge and key rotation."""

from __future__ import annotations

from datetime import timedelta

from cryptography.fernet import Fernet
from sqlalchemy import text

from hotline import create_app
from hotline.privacy.keys import count_encrypted
from hotline.retention.purge import purge_expired
from models import Case, Contact, Message, Referral, db
from models.types import keyring, utcnow
from tests.factories import CANARY_NOTE
from tests.webclient import case_by_reference


def _age(app, reference: str, contact_id: int, days: int) -> None:
    past = utcnow() - timedelta(days=days)
    with app.app_context():
        db.session.execute(
            db.update(Case)
            .where(Case.reference == reference)
            .values(created_at=past, contact_id=contact_id)
        )
        db.session.execute(db.update(Contact).values(started_at=past))
        db.session.execute(db.update(Message).values(created_at=past))
        db.session.commit()


def test_purge_shreds_old_free_text_and_keeps_the_codes(app, make_case, make_contact, runner):
    reference = make_case()
    contact_id = make_contact("sms", recording_url="https://rec.example/1")
    with app.app_context():
        referral = db.session.scalars(db.select(Referral)).first()
        referral.outcome_notes = "private outcome"
        db.session.commit()
    _age(app, reference, contact_id, app.config["RETENTION_DAYS"] + 1)
    result = runner.invoke(args=["retention", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 cases, 1 contacts, 1 messages" in result.output
    with app.app_context():
        case = case_by_reference(reference)
        assert case.notes is None and case.safe_phone is None and case.purged_at
        assert case.risk == "high" and case.coded("violence_type") == ["physical_assault"]
        assert case.commune_code == "06862"
        contact = db.session.get(Contact, contact_id)
        assert contact.caller_number is None and contact.recording_url is None
        assert contact.caller_hash  # repeat-caller counting still works
        assert db.session.scalars(db.select(Message)).one().body is None
        assert db.session.scalars(db.select(Referral)).first().outcome_notes is None
    again = runner.invoke(args=["retention", "purge"])
    assert "0 cases, 0 contacts, 0 messages" in again.output


def test_purge_skips_recent_cases_and_cases_on_legal_hold(app, make_case, make_contact):
    held = make_case()
    recent = make_case()
    contact_id = make_contact("sms")
    _age(app, held, contact_id, app.config["RETENTION_DAYS"] + 10)
    with app.app_context():
        db.session.execute(db.update(Case).where(Case.reference == held).values(legal_hold=True))
        db.session.commit()
        result = purge_expired()
        assert result.total == 0
        assert case_by_reference(held).notes and case_by_reference(recent).notes
        assert db.session.get(Contact, contact_id).caller_number == "+84900555123"
        assert db.session.scalars(db.select(Message)).one().body


def test_key_rotation_reencrypts_everything_with_the_newest_key(app, make_case, runner):
    reference = make_case()
    old_keys = app.config["FIELD_ENCRYPTION_KEYS"]
    new_key = Fernet.generate_key().decode()
    rotated = create_app({"FIELD_ENCRYPTION_KEYS": [new_key, *old_keys]})
    try:
        with rotated.app_context():
            stored = count_encrypted()  # notes, safe phone, the number-hash key, …
        assert stored >= 3
        result = rotated.test_cli_runner().invoke(args=["keys", "rotate"])
        assert result.exit_code == 0, result.output
        assert f"Re-encrypted {stored} values; 0 were" in result.output
        again = rotated.test_cli_runner().invoke(args=["keys", "rotate"])
        assert f"Re-encrypted 0 values; {stored} were" in again.output
        with rotated.app_context():
            raw = db.session.execute(text("SELECT notes FROM hotline_case")).scalar_one()
            assert Fernet(new_key).decrypt(raw.encode()).decode() == CANARY_NOTE
            assert case_by_reference(reference).safe_phone == "+84900777111"
    finally:
        # Rotate back: rows kept for the whole session (the number-hash key) must stay
        # readable by the session's keys and by worker processes started later.
        back = create_app({"FIELD_ENCRYPTION_KEYS": [*old_keys, new_key]})
        assert back.test_cli_runner().invoke(args=["keys", "rotate"]).exit_code == 0
        keyring.configure(old_keys)
