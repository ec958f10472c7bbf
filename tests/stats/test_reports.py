"""Counts, indicators and metrics from the database: consent, suppression, rollups, API."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from hotline.reporting.payload import content_hash, json_payload
from hotline.stats.periods import PeriodError, custom, month, parse_period
from hotline.stats.report import build_report
from models import Contact, Referral, db
from models.types import utcnow
from tests.factories import MARCH

PERIOD = month(2026, 3)
#: Former district of the test cases (commune 06862, Xã Tiên Yên, is filed under it).
DISTRICT = "198"


def payload(period=PERIOD, area=None) -> dict:
    data = json_payload(build_report(period, area), utcnow())
    data.pop("generated_at")
    return data


def published_counts(data: dict) -> list[int]:
    out = [c["value"] for c in data["cells"] if c["value"] is not None]
    for ind in data["indicators"]:
        out += [ind[k] for k in ("numerator", "denominator") if ind[k] is not None]
        if isinstance(ind["value"], int):
            out.append(ind["value"])
    return out


# --- periods ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "dhis2"),
    [
        ("2026-11", date(2026, 11, 1), date(2026, 12, 1), "202611"),
        ("2026-S1", date(2026, 1, 1), date(2026, 7, 1), "2026S1"),
        ("2026-s2", date(2026, 7, 1), date(2027, 1, 1), "2026S2"),
        ("2026", date(2026, 1, 1), date(2027, 1, 1), "2026"),
    ],
)
def test_periods_parse_to_local_dates(text, start, end, dhis2):
    p = parse_period(text)
    assert (p.start, p.end, p.dhis2) == (start, end, dhis2)


def test_period_bounds_are_local_midnight_in_utc():
    lo, hi = parse_period("2026-S1").utc_bounds("Asia/Ho_Chi_Minh")
    assert lo == datetime(2025, 12, 31, 17, tzinfo=UTC)
    assert hi == datetime(2026, 6, 30, 17, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "2026-13", "2026-S3", "26-01", "2026-1", "1999", "x"])
def test_bad_periods_are_refused(text):
    with pytest.raises(PeriodError):
        parse_period(text)


def test_custom_range_includes_its_last_day():
    # Custom ranges are whole months now (issue 19): only those can be protected together
    # with the published months, half-years and years, so a range of days is refused.
    p = custom(date(2026, 1, 1), date(2026, 2, 28))
    assert (p.kind, p.days, p.code) == ("custom", 59, "2026-01-01..2026-02-28")
    assert parse_period("2026-01..2026-02", allow_custom=True) == p
    with pytest.raises(PeriodError):
        custom(date(2026, 2, 10), date(2026, 1, 5))
    with pytest.raises(PeriodError) as refused:
        custom(date(2026, 1, 5), date(2026, 2, 10))
    assert refused.value.code == "months" and "whole months" in str(refused.value)
    # A range that is exactly a published period is that period.
    assert custom(date(2026, 1, 1), date(2026, 6, 30)) == parse_period("2026-S1")


# --- counts -----------------------------------------------------------------------------


def test_small_counts_never_appear(report_case):
    for _ in range(3):
        report_case(at=MARCH)
    data = payload()
    assert data["cells"], "the tables are published, suppressed"
    assert not [v for v in published_counts(data) if 0 < v < 5]
    total = next(c for c in data["cells"] if c["dimensions"] == {})
    assert total == {"dimensions": {}, "value": None, "suppressed": True}


def test_counts_by_place_sex_and_type(report_case):
    for _ in range(6):
        report_case(at=MARCH)
    report = build_report(PERIOD)
    assert report.value("cases") == 6
    assert report.value("cases", district_code=DISTRICT) == 6
    assert report.value("cases", sex="female") == 6
    assert report.value("cases", violence_type="physical_assault") == 6
    assert report.value("cases", outcome="referred") == 6
    assert report.value("cases", sex="male") == 0
    district = build_report(PERIOD, DISTRICT)
    assert district.value("cases") == 6
    cells = payload(area=DISTRICT)["cells"]
    assert cells
    assert all(c["dimensions"]["district_code"] == DISTRICT for c in cells)


def test_a_case_without_reporting_consent_changes_no_published_number(report_case):
    for _ in range(7):
        report_case(at=MARCH)
    before = payload()
    before_district = payload(area=DISTRICT)
    no_consent = {"referral": True, "follow_up": False, "reporting": False}
    case = report_case(at=MARCH, consent=no_consent, safe_contact={"channel": "none"})
    referral = case.referrals[0]
    referral.acknowledged_at = MARCH + timedelta(minutes=3)
    referral.services_received = ["counselling"]
    db.session.commit()
    assert payload() == before
    assert payload(area=DISTRICT) == before_district
    assert content_hash(payload()) == content_hash(before)


def test_later_changes_reach_the_numbers(report_case):
    """A referral outcome recorded days later updates the case's day (dirty-day rollups)."""
    cases = [report_case(at=MARCH) for _ in range(6)]
    ind = build_report(PERIOD).indicators()[0]
    assert (ind.code, ind.numerator, ind.denominator) == ("SUPPORT_ACCESS", 0, 6)
    for case in cases[:5]:
        case.referrals[0].services_received = ["counselling"]
        case.referrals[0].acknowledged_at = MARCH + timedelta(minutes=7)
    db.session.commit()
    ind = build_report(PERIOD).indicators()[0]
    # 5 met and 1 unmet: the 1 is suppressed, so the share cannot be published either.
    assert ind.denominator == 6 and ind.numerator is None and ind.value is None
    cases[5].referrals[0].services_received = ["legal"]
    db.session.commit()
    ind = build_report(PERIOD).indicators()[0]
    assert (ind.numerator, ind.denominator, ind.value, ind.target) == (6, 6, 1.0, 0.9)
    moved = cases[0]
    moved.created_at = MARCH + timedelta(days=40)
    db.session.commit()
    # The case moved to April, where it is alone (1: suppressed). March's 5 is true but
    # hidden now: months, half-years and the year are suppressed together (issue 19), and
    # 2026-S1 (6) minus a published March (5) would give April's lone case away.
    report = build_report(PERIOD)
    assert report.value("cases") is None
    assert build_report(month(2026, 4)).value("cases") is None
    assert build_report(parse_period("2026-S1")).value("cases") == 6


def test_indicator_definitions(report_case):
    for _ in range(5):
        report_case(at=MARCH, violence_types=["non_gbv"], contexts=["trafficking"])
    for _ in range(5):
        c = report_case(at=MARCH, perpetrator={"relationship": "husband"})
        c.perpetrator_prosecuted = False
        c.perpetrator_counselled = True
    db.session.commit()
    by_code = {m.code: m for m in build_report(PERIOD).indicators()}
    assert by_code["SUPPORT_ACCESS"].denominator == 5  # non_gbv cases are not victims of GBV
    assert by_code["TRAFFICKING_SUPPORT"].denominator == 5
    assert by_code["TRAFFICKING_SUPPORT"].target == 1.0
    assert by_code["PERPETRATOR_COUNSELLING"].numerator == 5
    assert by_code["PERPETRATOR_COUNSELLING"].target == 0.7
    assert build_report(parse_period("2025")).indicators()[1].target == 0.5


def test_hotline_metrics(ctx):
    start = MARCH
    rows = []
    for i in range(10):  # answered after 4, 8, … 40 s
        rows.append(
            Contact(
                channel="voice",
                provider="test",
                started_at=start,
                answered_at=start + timedelta(seconds=4 * (i + 1)),
                ended_at=start + timedelta(seconds=300),
            )
        )
    for _ in range(5):
        rows.append(
            Contact(
                channel="voice",
                provider="test",
                started_at=start,
                ended_at=start + timedelta(seconds=90),
                abandoned_step="menu",
            )
        )
    rows += [Contact(channel="sms", provider="test", started_at=start) for _ in range(6)]
    db.session.add_all(rows)
    db.session.commit()
    m = {x.code: x for x in build_report(PERIOD).metrics()}
    assert m["CALLS_OFFERED"].value == 15
    assert m["CALLS_ANSWERED"].value == 10
    assert m["ANSWER_RATE"].value == round(10 / 15, 4)
    assert m["SERVICE_LEVEL_20S"].numerator == 5  # 4, 8, 12, 16, 20 s
    assert m["AVG_SPEED_OF_ANSWER_S"].value == 22.0
    assert m["LONGEST_WAIT_S"].value == 90
    assert m["CALLS_ABANDONED_STEP_MENU"].value == 5
    assert m["SMS_CONVERSATIONS"].value == 6


def test_referral_acknowledgement_times(report_case):
    for i in range(10):
        case = report_case(at=MARCH)
        case.referrals[0].acknowledged_at = MARCH + timedelta(minutes=i)
    db.session.commit()
    m = {x.code: x for x in build_report(PERIOD).metrics()}
    assert m["REFERRAL_ACK_MEDIAN_MIN"].value == 4
    assert m["REFERRAL_ACK_P90_MIN"].value == 8
    assert db.session.query(Referral).count() >= 10


# --- API ----------------------------------------------------------------------------------


def test_api_gives_managers_the_anonymised_payload(client, report_case, manager_token):
    for _ in range(5):
        report_case(at=MARCH)
    r = client.get(
        "/api/v1/stats?period=2026-03", headers={"Authorization": f"Bearer {manager_token}"}
    )
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) == {"source", "period", "generated_at", "cells", "indicators"}
    assert body["period"] == "2026-03"
    assert {"dimensions": {}, "value": 5, "suppressed": False} in body["cells"]
    r = client.get(
        "/api/v1/stats?period=2026-03&district_code=" + DISTRICT,
        headers={"Authorization": f"Bearer {manager_token}"},
    )
    assert r.status_code == 200
    cells = r.get_json()["cells"]
    assert cells
    assert all(c["dimensions"]["district_code"] == DISTRICT for c in cells)


def test_api_refuses_other_roles_and_bad_input(client, manager_token, operator_token):
    auth = {"Authorization": f"Bearer {manager_token}"}
    assert client.get("/api/v1/stats?period=2026-03").status_code == 401
    r = client.get(
        "/api/v1/stats?period=2026-03", headers={"Authorization": f"Bearer {operator_token}"}
    )
    assert r.status_code == 403
    r = client.get("/api/v1/stats?period=2026-13&district_code=999", headers=auth)
    assert r.status_code == 422
    assert set(r.get_json()["errors"]) == {"period", "district_code"}


def test_cli_refuses_a_bad_period(runner):
    result = runner.invoke(args=["report", "push", "--period", "2026-S3"])
    assert result.exit_code != 0
    assert "2026-S1" in result.output


def test_cli_show_prints_the_payload(runner, report_case):
    for _ in range(5):
        report_case(at=MARCH)
    result = runner.invoke(args=["report", "show", "--period", "2026-03"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["period"] == "2026-03"


def test_an_acknowledgement_reaches_the_numbers(report_case):
    """Acknowledging (SMS reply, link, inbox, API: one function, a direct UPDATE) marks the
    case's day for recomputation like any other change."""
    from hotline.referrals.actions import acknowledge

    cases = [report_case(at=MARCH) for _ in range(5)]
    assert build_report(PERIOD).value("ack") == 0
    for case in cases:
        assert acknowledge(case.referrals[0], via="sms")
    db.session.commit()
    assert build_report(PERIOD).value("ack") == 5


def test_ranges_of_whole_months_only_api_and_cli(client, runner, report_case, manager_token):
    """Issue 19: a range is answered only when it can be protected (whole months); any
    other range is refused with the reason, by the API (422) and the CLI."""
    for _ in range(5):
        report_case(at=MARCH)
    auth = {"Authorization": f"Bearer {manager_token}"}
    r = client.get("/api/v1/stats?period=2026-02..2026-04", headers=auth)
    assert r.status_code == 200
    body = r.get_json()
    assert body["period"] == "2026-02-01..2026-04-30"
    assert {"dimensions": {}, "value": 5, "suppressed": False} in body["cells"]
    r = client.get("/api/v1/stats?period=2026-02-05..2026-04-10", headers=auth)
    assert r.status_code == 422
    reason = " ".join(r.get_json()["errors"]["period"])
    assert "whole months" in reason or "tháng trọn vẹn" in reason  # English or Vietnamese
    shown = runner.invoke(args=["report", "show", "--period", "2026-02..2026-04"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["period"] == "2026-02-01..2026-04-30"
    refused = runner.invoke(args=["report", "show", "--period", "2026-02-05..2026-04-10"])
    assert refused.exit_code != 0
    assert "whole months" in refused.output or "tháng trọn vẹn" in refused.output
    pushed = runner.invoke(args=["report", "push", "--period", "2026-02..2026-04"])
    assert pushed.exit_code != 0
    assert "not pushed" in pushed.output or "không gửi được" in pushed.output
