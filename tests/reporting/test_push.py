"""Pushing to the reporting system, against a local receiver over real HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from hotline.reporting.push import retry_due
from hotline.reporting.schedule import due_pushes, run_scheduled_pushes
from hotline.stats.periods import month
from models import OutboxItem, ReportPush, db
from tests.factories import MARCH, REPORT_CANARIES
from tests.fakes.reporting_receiver import ReportingReceiver

SECRET = "test-reporting-secret"


@pytest.fixture
def receiver(app, unused_port):
    fake = ReportingReceiver(SECRET, unused_port).start()
    saved = {
        k: app.config.get(k) for k in ("REPORTING_URL", "REPORTING_SECRET", "REPORTING_FORMAT")
    }
    app.config.update(REPORTING_URL=fake.url, REPORTING_SECRET=SECRET, REPORTING_FORMAT="json")
    try:
        yield fake
    finally:
        fake.stop()
        app.config.update(saved)


@pytest.fixture
def cases(report_case):
    made = []
    for i in range(6):
        case = report_case(
            at=MARCH,
            perpetrator={"relationship": REPORT_CANARIES["relationship"] if i == 0 else "husband"},
        )
        referral = case.referrals[0]
        referral.services_received = ["counselling"]
        referral.outcome_notes = REPORT_CANARIES["outcome"]
        made.append(case)
    db.session.commit()
    return made


def _push(runner, *args):
    return runner.invoke(args=["report", "push", "--period", "2026-03", *args])


@pytest.mark.parametrize("fmt", ["json", "dhis2"])
def test_push_is_signed_and_carries_no_identifier_or_free_text(runner, receiver, cases, fmt):
    result = _push(runner, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert len(receiver.received) == 1 and not receiver.rejected
    sent = receiver.received[0]
    assert sent["signature_ok"]
    assert sent["key"].startswith("2026-03-QN-")
    body = sent["body"].decode("utf-8")
    personal = [*REPORT_CANARIES.values(), *(c.reference for c in cases)]
    for value in personal:
        assert value not in body, "personal value in the payload"
    data = json.loads(body)
    if fmt == "json":
        assert set(data) == {"source", "period", "generated_at", "cells", "indicators"}
        keys = {k for c in data["cells"] for k in c["dimensions"]}
        assert keys <= {
            "district_code",
            "commune_code",
            "violence_type",
            "sex",
            "age_band",
            "channel",
            "risk",
            "outcome",
        }
        assert {"dimensions": {}, "value": 6, "suppressed": False} in data["cells"]
        assert all(
            set(i) == {"code", "numerator", "denominator", "value", "target"}
            for i in data["indicators"]
        )
        support = next(i for i in data["indicators"] if i["code"] == "SUPPORT_ACCESS")
        assert (support["numerator"], support["denominator"]) == (6, 6)
    else:
        assert data["period"] == "202603"
        assert "importStrategy=CREATE_AND_UPDATE" in sent["path"]
        total = next(
            v
            for v in data["dataValues"]
            if v["dataElement"] == "HL_CASES" and v["orgUnit"] == "22"
        )
        assert total["value"] == "6"


def test_same_numbers_are_not_pushed_twice_and_new_numbers_replace(
    runner, receiver, cases, report_case
):
    assert _push(runner).exit_code == 0
    first_key = receiver.received[0]["key"]
    assert _push(runner).exit_code == 0  # same payload → same key → not posted again
    assert len(receiver.received) == 1
    report_case(at=MARCH)
    assert _push(runner).exit_code == 0
    assert len(receiver.received) == 2
    assert receiver.received[1]["key"] != first_key
    current = receiver.current["2026-03-QN"]
    assert {"dimensions": {}, "value": 7, "suppressed": False} in current["cells"]
    rows = db.session.scalars(select(ReportPush).order_by(ReportPush.id)).all()
    assert [r.status for r in rows] == ["delivered", "delivered"]


def test_receiver_down_then_up_is_delivered_exactly_once(runner, receiver, cases):
    receiver.stop()
    result = _push(runner)
    assert result.exit_code == 1
    row = db.session.scalars(select(ReportPush)).one()
    assert (row.status, row.attempts, row.error_code) == ("retrying", 1, "connection")
    item = db.session.scalars(select(OutboxItem).where(OutboxItem.queue == "reports")).one()
    assert item.job == "reporting.retry_push"
    assert item.payload == {"push_id": row.id} and item.queue == "reports"
    assert item.available_at > row.created_at
    receiver.start()
    retry_due(row.id)
    retry_due(row.id)  # the relay delivering the job twice changes nothing
    assert _push(runner).exit_code == 0  # nor does a manual push of the same numbers
    assert len(receiver.received) == 1
    db.session.refresh(row)
    assert (row.status, row.attempts, row.http_status) == ("delivered", 2, 200)


def test_receiver_error_is_logged_with_its_status(runner, receiver, cases):
    receiver.status = 503
    assert _push(runner).exit_code == 1
    row = db.session.scalars(select(ReportPush)).one()
    assert (row.status, row.http_status, row.error_code) == ("retrying", 503, "http_503")
    log = runner.invoke(args=["report", "log"])
    assert "retrying" in log.output and "2026-03" in log.output


def test_push_without_configuration_is_refused(runner, app, cases):
    saved = app.config.get("REPORTING_URL")
    app.config["REPORTING_URL"] = None
    try:
        result = _push(runner)
    finally:
        app.config["REPORTING_URL"] = saved
    assert result.exit_code != 0
    assert "REPORTING_URL" in result.output


def test_schedule_pushes_each_slot_once(ctx, receiver, cases):
    june = datetime(2026, 6, 2, 3, 0, tzinfo=UTC)
    due = {(d.period.code, d.slot) for d in due_pushes(june)}
    assert due == {("2026-05", "sched-month"), ("2026-S1", "sched-prov")}
    run_scheduled_pushes(june)
    assert due_pushes(june) == []
    assert {r["key"].rsplit("-", 1)[0] for r in receiver.received} == {"2026-05-QN", "2026-S1-QN"}
    july = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)
    assert {(d.period.code, d.slot) for d in due_pushes(july)} == {
        ("2026-06", "sched-month"),
        ("2026-S1", "sched-final"),
    }
    january = datetime(2027, 1, 1, 3, 0, tzinfo=UTC)
    assert {d.period.code for d in due_pushes(january)} == {"2026-12", "2026-S2", "2026"}
    december = datetime(2026, 12, 12, 3, 0, tzinfo=UTC)
    assert {d.period.code for d in due_pushes(december)} == {"2026-11"}
    assert month(2026, 3).dhis2 == "202603"


def test_values_pushed_earlier_stay_fixed_and_later_changes_suppress_more(
    runner, receiver, cases, report_case
):
    """Issue 19. March (6 cases) is pushed; a lone April case comes later. Unpushed,
    March's total would be hidden (S1 minus March gives April's case away): pushed, it
    stays 6 and the half-year and year totals are hidden instead. Nothing suppressed is
    recoverable from everything published now plus every number pushed."""
    from hotline.stats.joint import joint_system
    from hotline.stats.periods import parse_period
    from hotline.stats.published import pushed_values
    from hotline.stats.report import build_report, places, year_solution
    from hotline.stats.suppression import recoverable
    from tests.factories import MARCH

    assert _push(runner).exit_code == 0
    total = ("cases", ())
    assert pushed_values(month(2026, 3))[total] == 6
    report_case(at=MARCH.replace(month=4))
    assert build_report(month(2026, 3)).value("cases") == 6  # held fixed
    assert build_report(month(2026, 4)).value("cases") is None
    assert build_report(parse_period("2026-S1")).value("cases") is None
    assert build_report(parse_period("2026")).value("cases") is None

    def nothing_recoverable():
        sol = year_solution(2026)
        districts, pairs = places()
        _values, equations = joint_system(2026, sol.counts, districts, pairs)
        # Known (pushed) cells count as published; every other hidden cell is protected.
        assert not sol.known & sol.hidden
        assert recoverable(sol.values, equations, sol.hidden) == set()

    nothing_recoverable()
    # A consent withdrawn in March: the pushed 6 is no longer true. It is republished at
    # its new value (a re-push replaces); the old 6 still counts as known.
    cases[1].consent_reporting = False
    db.session.commit()
    assert build_report(month(2026, 3)).value("cases") == 5
    nothing_recoverable()
    assert _push(runner).exit_code == 0
    assert {"dimensions": {}, "value": 5, "suppressed": False} in receiver.current["2026-03-QN"][
        "cells"
    ]
    assert pushed_values(month(2026, 3))[total] == 5
