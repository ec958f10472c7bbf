"""The directory's version (migration 0019): one row the database moves on at every change
of a service point, however it is made, so no process routes with a stale copy."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from hotline.dev.demo import DEMO_SOCIAL_WORKER_COMMUNE as TIEN_YEN_CODE
from hotline.directory.decisions import decide
from models import DirectoryVersion, ServicePoint, db

TIEN_YEN = {"commune_code": TIEN_YEN_CODE}


def version() -> int | None:
    db.session.commit()  # a new snapshot: what another process would read now
    return db.session.scalar(select(DirectoryVersion.version).where(DirectoryVersion.id == 1))


def primary_code() -> str:
    return decide(TIEN_YEN, risk="high").primary.code


def test_every_kind_of_change_moves_the_version_on(ctx):
    seen = [version()]
    db.session.add(ServicePoint(code="V-1", name="Điểm thử", kind="trusted_address"))
    db.session.commit()
    seen.append(version())
    # Plain SQL, touching neither ``active`` nor ``updated_at``.
    db.session.execute(text("UPDATE service_point SET hours = 'Mo-Fr 07:30-17:00'"))
    seen.append(version())
    db.session.execute(text("DELETE FROM service_point WHERE code = 'V-1'"))
    seen.append(version())
    db.session.execute(text("UPDATE service_point SET hours = '24/7' WHERE code = 'none'"))
    seen.append(version())
    assert None not in seen
    assert seen[0] < seen[1] < seen[2] < seen[3], seen
    assert seen[4] == seen[3]  # no row changed


def test_a_truncate_moves_the_version_on(ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    before = version()
    db.session.execute(text("TRUNCATE service_point CASCADE"))
    assert version() > before


def test_a_plain_sql_edit_is_routed_on_at_once(directory):
    """Moving the point a case would go to into another commune changes neither the
    number of active points nor their latest change: the old version (those two
    aggregates) missed it, and the cached directory kept routing there."""
    first = primary_code()
    elsewhere = ServicePoint.commune_code != TIEN_YEN_CODE
    other_commune = db.session.scalar(select(ServicePoint.commune_code).where(elsewhere).limit(1))
    db.session.execute(
        text("UPDATE service_point SET commune_code = :other WHERE code = :code"),
        {"other": other_commune, "code": first},
    )
    db.session.commit()
    assert primary_code() != first


def test_without_its_row_nothing_is_cached_and_the_next_change_brings_it_back(directory):
    first = primary_code()
    db.session.execute(text("DELETE FROM directory_version"))
    db.session.commit()
    assert version() is None
    db.session.execute(
        text("UPDATE service_point SET active = false WHERE code = :code"), {"code": first}
    )
    # The trigger's upsert made the row again; and the edit is routed on.
    assert version() is not None
    assert primary_code() != first
    db.session.execute(
        text("UPDATE service_point SET active = true WHERE code = :code"), {"code": first}
    )
    db.session.execute(text("DELETE FROM directory_version"))
    db.session.commit()
    assert primary_code() == first  # read from the database, not an old cache
