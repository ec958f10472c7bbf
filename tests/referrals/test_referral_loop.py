"""Closing the referral loop (DESIGN.md section 12): every referral ends accepted with an
outcome, or the case goes elsewhere at once — by the inbox, the API, the alert page with no
login, or an SMS reply from the point's duty phone."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from hotline.alerts.acknowledge import try_sms_acknowledgement
from hotline.alerts.escalation import check_escalations
from hotline.alerts.text import ACK_SALT, ack_token
from hotline.referrals.actions import record_outcome
from hotline.stats.periods import month
from hotline.stats.report import build_report
from models import (
    Alert,
    AuditEvent,
    Case,
    OutboxItem,
    Referral,
    ServicePoint,
    Task,
    db,
)
from models.types import utcnow
from tests.factories import ALERT_CASE, MARCH, case_body, new_case, point
from tests.webclient import OTHER_SW, post_form

DAM_HA = {"commune_code": "06895"}  # chain: DCTC-06895, DCTC-06913, the provincial centre
CENTRE = "DEMO-TT-TINH"


@pytest.fixture
def api(app):
    return app.test_client()


def create(api, headers, **overrides) -> dict:
    response = api.post("/api/v1/cases", json=case_body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def referrals_of(app, reference: str) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (r.service_point.code, r.status)
            for r in db.session.scalars(
                select(Referral)
                .join(Case)
                .where(Case.reference == reference)
                .order_by(Referral.id)
            )
        ]


def referral_id(app, reference: str, code: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Referral.id)
            .join(Case)
            .join(ServicePoint, Referral.service_point_id == ServicePoint.id)
            .where(Case.reference == reference, ServicePoint.code == code)
        )


def link(app, referral: int) -> str:
    with app.test_request_context():
        return f"/a/{ack_token(referral)}"


def tasks_of(app, reference: str) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Task.kind)
                .join(Case, Task.case_id == Case.id)
                .where(Case.reference == reference)
            )
        )


# --- decline moves the case on ---------------------------------------------------------------


def test_a_decline_moves_the_case_to_the_next_point_and_alerts_it(
    api, app, token_for, fake_twilio, run_burst
):
    reference = create(api, token_for("operator"), area=DAM_HA)["reference"]
    first = referral_id(app, reference, "DEMO-DCTC-06895")
    run_burst()  # the first alert goes out
    response = api.post(
        f"/api/v1/referrals/{first}/decline",
        json={"reason": "no_capacity", "note": "two staff off sick"},
        headers=token_for(OTHER_SW),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "declined"
    assert body["next_referral"]["service_point"]["code"] == "DEMO-DCTC-06913"
    assert referrals_of(app, reference) == [
        ("DEMO-DCTC-06895", "declined"),
        ("DEMO-DCTC-06913", "pending"),
    ]
    with app.app_context():
        declined = db.session.get(Referral, first)
        assert declined.decline_code == "no_capacity"
        moved_at = db.session.get(Referral, body["next_referral"]["id"]).created_at
        assert moved_at - declined.ended_at < timedelta(seconds=30)
        next_phone = point("DEMO-DCTC-06913").alert_phone
        first_alert = db.session.scalar(select(Alert).where(Alert.referral_id == first))
        assert first_alert.escalate_at is None  # the declined point's alert stops escalating
    run_burst()
    to_next = [m for m in fake_twilio.messages if m.form["To"] == next_phone]
    assert len(to_next) == 1 and reference in to_next[0].form["Body"]
    with app.app_context():  # a decline is not a missed deadline: a plain referral alert
        assert (
            db.session.scalar(
                select(Alert.kind).where(Alert.referral_id == body["next_referral"]["id"])
            )
            == "referral"
        )
    again = api.post(
        f"/api/v1/referrals/{first}/decline", json={"reason": "other"}, headers=token_for(OTHER_SW)
    )
    assert again.status_code == 409


def test_the_chain_ends_with_the_centre_and_a_task_then_the_operators(api, app, token_for, client):
    reference = create(api, token_for("operator"), area=DAM_HA)["reference"]
    for code in ("DEMO-DCTC-06895", "DEMO-DCTC-06913"):
        page = link(app, referral_id(app, reference, code))
        response = post_form(client, f"{page}/decline", {"reason": "out_of_area"})
        assert response.status_code == 303
    assert referrals_of(app, reference)[-1] == (CENTRE, "pending")
    assert tasks_of(app, reference) == ["referral_declined"]
    # the centre declines too: nobody is left, and nobody is chosen twice
    centre = link(app, referral_id(app, reference, CENTRE))
    assert post_form(client, f"{centre}/decline", {"reason": "other"}).status_code == 303
    codes = [code for code, _status in referrals_of(app, reference)]
    assert codes == ["DEMO-DCTC-06895", "DEMO-DCTC-06913", CENTRE]
    assert {s for _c, s in referrals_of(app, reference)} == {"declined"}
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(OutboxItem.id)).where(
                    OutboxItem.job == "alerts.notify_exhausted"
                )
            )
            == 1
        )
    assert tasks_of(app, reference) == ["referral_declined"]


def test_an_escalation_past_a_point_expires_it_and_never_chooses_it_again(api, app, token_for):
    reference = create(api, token_for("operator"), area=DAM_HA)["reference"]
    later = utcnow() + timedelta(hours=3)
    with app.app_context():
        assert check_escalations(now=later) == 1
    assert referrals_of(app, reference) == [
        ("DEMO-DCTC-06895", "expired"),
        ("DEMO-DCTC-06913", "pending"),
    ]
    with app.app_context():
        assert check_escalations(now=later + timedelta(hours=3)) == 1
        assert check_escalations(now=later + timedelta(hours=6)) == 1
    assert [s for _c, s in referrals_of(app, reference)] == ["expired", "expired", "expired"]
    assert tasks_of(app, reference) == ["referral_declined"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"reason": "busy"}, "reason"), ({}, "reason"), ({"reason": "other", "note": 5}, "note")],
)
def test_a_bad_decline_is_a_422_and_changes_nothing(api, app, token_for, body, field):
    reference = create(api, token_for("operator"))["reference"]
    rid = referral_id(app, reference, "DEMO-DCTC-06862")
    response = api.post(
        f"/api/v1/referrals/{rid}/decline", json=body, headers=token_for("social_worker")
    )
    assert response.status_code == 422 and list(response.get_json()["errors"]) == [field]
    assert referrals_of(app, reference) == [("DEMO-DCTC-06862", "pending")]


def test_accept_then_outcome_and_what_is_no_longer_allowed(api, app, token_for):
    reference = create(api, token_for("operator"))["reference"]
    rid = referral_id(app, reference, "DEMO-DCTC-06862")
    sw = token_for("social_worker")
    accepted = api.post(f"/api/v1/referrals/{rid}/accept", headers=sw)
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    assert accepted.get_json()["acknowledged_at"] is not None
    assert api.post(f"/api/v1/referrals/{rid}/accept", headers=sw).status_code == 409
    assert (
        api.post(
            f"/api/v1/referrals/{rid}/decline", json={"reason": "other"}, headers=sw
        ).status_code
        == 409
    )
    closed = api.post(
        f"/api/v1/referrals/{rid}/outcome",
        json={"services_received": [], "outcome": "not_reached"},
        headers=sw,
    )
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    with app.app_context():
        assert db.session.get(Referral, rid).outcome == "not_reached"
    other = token_for(OTHER_SW)
    assert api.post(f"/api/v1/referrals/{rid}/accept", headers=other).status_code == 404


def test_an_outcome_on_a_declined_referral_is_a_409(api, app, token_for):
    reference = create(api, token_for("operator"))["reference"]
    rid = referral_id(app, reference, "DEMO-DCTC-06862")
    sw = token_for("social_worker")
    api.post(f"/api/v1/referrals/{rid}/decline", json={"reason": "other"}, headers=sw)
    response = api.post(
        f"/api/v1/referrals/{rid}/outcome", json={"services_received": ["counselling"]}, headers=sw
    )
    assert response.status_code == 409


# --- the alert page --------------------------------------------------------------------------


def test_the_alert_page_acknowledges_accepts_and_records_the_outcome(api, app, token_for, client):
    reference = create(api, token_for("operator"))["reference"]
    rid = referral_id(app, reference, "DEMO-DCTC-06862")
    page = link(app, rid)
    shown = client.get(page)
    assert shown.status_code == 200 and reference in shown.get_data(as_text=True)
    assert "canary" not in shown.get_data(as_text=True).lower()
    assert "0900 777" not in shown.get_data(as_text=True)
    assert referrals_of(app, reference) == [("DEMO-DCTC-06862", "pending")]  # GET did nothing
    assert post_form(client, f"{page}/acknowledge").status_code == 303
    assert referrals_of(app, reference) == [("DEMO-DCTC-06862", "acknowledged")]
    assert post_form(client, f"{page}/accept").status_code == 303
    assert referrals_of(app, reference) == [("DEMO-DCTC-06862", "accepted")]
    bad = post_form(client, f"{page}/outcome", {"outcome": "service_received"})
    assert bad.status_code == 422  # received support, but which?
    done = post_form(
        client,
        f"{page}/outcome",
        {"outcome": "service_received", "services_received": ["counselling", "legal"]},
    )
    assert done.status_code == 303
    with app.app_context():
        referral = db.session.get(Referral, rid)
        assert (referral.status, referral.outcome) == ("closed", "service_received")
        assert referral.services_received == ["counselling", "legal"]
        assert referral.acknowledged_via == "link"
    assert post_form(client, f"{page}/accept").status_code == 409


def test_expired_tampered_and_foreign_tokens_show_and_change_nothing(api, app, token_for, client):
    reference = create(api, token_for("operator"))["reference"]
    other = create(api, token_for("operator"), area=DAM_HA)["reference"]
    rid = referral_id(app, reference, "DEMO-DCTC-06862")

    class FifteenDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 15 * 24 * 3600

    expired = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt=ACK_SALT, signer=FifteenDaysAgo
    ).dumps(rid)
    forged = URLSafeTimedSerializer("not-our-key", salt=ACK_SALT).dumps(rid)
    valid = link(app, rid).removeprefix("/a/")
    tampered = valid[:-2] + ("AA" if not valid.endswith("AA") else "BB")
    for token in (expired, forged, tampered, "garbage", "x" * 300):
        page = client.get(f"/a/{token}")
        assert page.status_code == 404
        assert reference not in page.get_data(as_text=True)
        for action in ("acknowledge", "accept", "decline", "outcome", "beds"):
            response = post_form(
                client, f"/a/{token}/{action}", {"reason": "other", "free_beds": "0"}
            )
            assert response.status_code == 404
    assert referrals_of(app, reference) == [("DEMO-DCTC-06862", "pending")]
    # a token names one referral: it shows that case, never another
    assert other not in client.get(link(app, rid)).get_data(as_text=True)


def test_a_fourteen_day_old_link_still_works(api, app, token_for, client):
    reference = create(api, token_for("operator"))["reference"]
    rid = referral_id(app, reference, "DEMO-DCTC-06862")

    class ThirteenDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 13 * 24 * 3600

    token = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt=ACK_SALT, signer=ThirteenDaysAgo
    ).dumps(rid)
    assert client.get(f"/a/{token}").status_code == 200


# --- SMS replies from the duty phone -------------------------------------------------------------


def test_sms_replies_ok_nhan_tuchoi_from_the_duty_phone(directory):
    phone = point("DEMO-DCTC-06895").alert_phone
    accept_case = new_case(base=ALERT_CASE, area=DAM_HA)
    decline_case = new_case(base=ALERT_CASE, area=DAM_HA)

    reply = try_sms_acknowledgement(phone, f"Nhận {accept_case.reference}")
    db.session.commit()
    assert "Đã tiếp nhận" in reply and accept_case.reference in reply
    assert accept_case.referrals[0].status == "accepted"
    assert accept_case.referrals[0].acknowledged_via == "sms"

    reply = try_sms_acknowledgement(phone, f"từ chối {decline_case.reference}")
    db.session.commit()
    assert "Đã từ chối" in reply
    db.session.refresh(decline_case)
    chain = decline_case.routing["chain"]  # opening hours decide how long it is
    assert [(r.service_point.code, r.status) for r in decline_case.referrals] == [
        (chain[0], "declined"),
        (chain[1], "pending"),
    ]
    assert decline_case.referrals[0].decline_code == "other"
    again = try_sms_acknowledgement(phone, f"TUCHOI {decline_case.reference}")
    assert "không thể thay đổi" in again.lower()
    assert len(reply) <= 160 and len(again) <= 160


def test_sms_replies_from_another_number_change_nothing(directory):
    case = new_case(base=ALERT_CASE, area=DAM_HA)
    for body in (f"OK {case.reference}", f"NHAN {case.reference}", f"TUCHOI {case.reference}"):
        assert try_sms_acknowledgement("+84900999888", body) is None
    db.session.commit()
    db.session.refresh(case)
    assert [r.status for r in case.referrals] == ["pending"]
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action.like("referral.%"))
        )
        == 0
    )


# --- child protection ----------------------------------------------------------------------


def test_a_child_survivor_is_also_referred_to_the_centre_on_the_child_protection_path(
    api, app, token_for, fake_twilio, run_burst
):
    data = create(api, token_for("operator"), survivor={"sex": "female", "age_band": "12-17"})
    assert data["routing"]["child_protection"]["code"] == CENTRE
    assert data["routing"]["service_point"]["code"] == "DEMO-DCTC-06862"
    assert referrals_of(app, data["reference"]) == [
        ("DEMO-DCTC-06862", "pending"),
        (CENTRE, "pending"),
    ]
    run_burst()
    with app.app_context():
        centre_phone = point(CENTRE).alert_phone
    assert [
        data["reference"] in m.form["Body"]
        for m in fake_twilio.messages
        if m.form["To"] == centre_phone
    ] == [True]
    adult = create(api, token_for("operator"))
    assert adult["routing"]["child_protection"] is None
    case = api.get(f"/api/v1/cases/{data['reference']}", headers=token_for("operator")).get_json()
    assert case["routing"]["child_protection"]["code"] == CENTRE


def test_a_declined_child_protection_referral_does_not_move_the_local_one(
    api, app, token_for, client
):
    reference = create(api, token_for("operator"), survivor={"sex": "female", "age_band": "0-11"})[
        "reference"
    ]
    page = link(app, referral_id(app, reference, CENTRE))
    post_form(client, f"{page}/decline", {"reason": "other"})
    assert referrals_of(app, reference) == [("DEMO-DCTC-06862", "pending"), (CENTRE, "declined")]
    assert tasks_of(app, reference) == []  # the local point still has the case


# --- live shelter beds ---------------------------------------------------------------------


SHELTER_CASE = {"needs": ["shelter"], "area": {"district_code": "193"}}


def test_a_full_shelter_is_skipped_and_taken_again_when_a_bed_frees(api, app, token_for):
    operator, admin = token_for("operator"), token_for("admin")
    assert (
        create(api, operator, **SHELTER_CASE)["routing"]["service_point"]["code"] == "DEMO-NTL-193"
    )
    full = api.put(
        "/api/v1/service-points/DEMO-NTL-193/occupancy", json={"free_beds": 0}, headers=admin
    )
    assert full.status_code == 200 and full.get_json()["free_beds"] == 0
    assert (
        create(api, operator, **SHELTER_CASE)["routing"]["service_point"]["code"] != "DEMO-NTL-193"
    )
    api.put("/api/v1/service-points/DEMO-NTL-193/occupancy", json={"free_beds": 1}, headers=admin)
    assert (
        create(api, operator, **SHELTER_CASE)["routing"]["service_point"]["code"] == "DEMO-NTL-193"
    )


def test_an_accepted_shelter_referral_holds_a_bed_until_its_outcome(api, app, token_for, client):
    admin = token_for("admin")
    api.put("/api/v1/service-points/DEMO-NTL-193/occupancy", json={"free_beds": 1}, headers=admin)
    reference = create(api, token_for("operator"), **SHELTER_CASE)["reference"]
    page = link(app, referral_id(app, reference, "DEMO-NTL-193"))
    post_form(client, f"{page}/accept")
    with app.app_context():
        assert point("DEMO-NTL-193").free_beds == 0
    # the shelter is full now: the next case needing shelter goes elsewhere
    assert (
        create(api, token_for("operator"), **SHELTER_CASE)["routing"]["service_point"]["code"]
        != "DEMO-NTL-193"
    )
    post_form(
        client,
        f"{page}/outcome",
        {"outcome": "service_received", "services_received": ["shelter"]},
    )
    with app.app_context():
        assert point("DEMO-NTL-193").free_beds == 1


def test_the_alert_page_sets_free_beds(api, app, token_for, client):
    reference = create(api, token_for("operator"), **SHELTER_CASE)["reference"]
    page = link(app, referral_id(app, reference, "DEMO-NTL-193"))
    assert post_form(client, f"{page}/beds", {"free_beds": "-1"}).status_code == 422
    assert post_form(client, f"{page}/beds", {"free_beds": "2"}).status_code == 303
    with app.app_context():
        shelter = point("DEMO-NTL-193")
        assert shelter.free_beds == 2 and shelter.beds_updated_at is not None
    assert "2" in client.get(page).get_data(as_text=True)


@pytest.mark.parametrize(
    "body", [{"free_beds": -1}, {"free_beds": "3"}, {"free_beds": True}, {}, []]
)
def test_bad_occupancy_is_a_422(api, token_for, body):
    response = api.put(
        "/api/v1/service-points/DEMO-NTL-193/occupancy", json=body, headers=token_for("admin")
    )
    assert response.status_code == 422


def test_occupancy_is_for_the_points_own_social_workers_and_admins(api, token_for):
    for role, status in (("social_worker", 404), ("operator", 403), ("manager", 403)):
        response = api.put(
            "/api/v1/service-points/DEMO-NTL-193/occupancy",
            json={"free_beds": 1},
            headers=token_for(role),
        )
        assert response.status_code == status
    assert (
        api.put(
            "/api/v1/service-points/NOPE/occupancy",
            json={"free_beds": 1},
            headers=token_for("admin"),
        ).status_code
        == 404
    )


# --- outcomes count the same whichever way they are recorded ---------------------------------


def test_outcomes_from_the_alert_page_count_in_the_indicators(report_case, client, app):
    cases = [report_case(at=MARCH) for _ in range(10)]
    for case in cases[:5]:
        page = link(app, case.referrals[0].id)
        post_form(client, f"{page}/accept")
        post_form(
            client,
            f"{page}/outcome",
            {"outcome": "service_received", "services_received": ["counselling"]},
        )
    for case in cases[5:]:
        record_outcome(case.referrals[0], None, ["counselling"], via="inbox")
    db.session.commit()
    db.session.remove()
    indicator = build_report(month(2026, 3)).indicators()[0]
    assert (indicator.code, indicator.numerator, indicator.denominator) == (
        "SUPPORT_ACCESS",
        10,
        10,
    )


# --- the directory: neutral SMS names and beds -------------------------------------------------


def test_the_sms_reply_uses_the_points_neutral_name(app, ctx, directory, twilio):
    from tests.webhooks import reply_text

    shelter = point("DEMO-DCTC-06862")
    shelter.sms_name = "Chị Lan"
    db.session.commit()
    db.session.execute(
        db.update(ServicePoint).where(ServicePoint.kind == "trusted_address").values(hours="24/7")
    )
    db.session.commit()
    reply = reply_text(twilio.sms("Tôi ở Tiên Yên", "SM" + "n" * 32))
    assert "Chị Lan" in reply and "Địa chỉ tin cậy" not in reply


def test_the_csv_takes_an_optional_sms_name_column_and_exports_it_only_when_used(ctx, directory):
    import io

    from hotline.directory.points import COLUMNS, export_directory, import_directory
    from tests.factories import directory_csv, directory_row

    plain = io.StringIO()
    export_directory(plain)
    assert plain.getvalue().splitlines()[0] == ",".join(COLUMNS)
    row = directory_row(1) | {"sms_name": "Cô Hoa"}
    import_directory(directory_csv([row], header=(*COLUMNS, "sms_name")))
    assert point("QN-DCTC-001").sms_name == "Cô Hoa"
    import_directory(directory_csv([directory_row(1)]))  # an older file keeps the name
    assert point("QN-DCTC-001").sms_name == "Cô Hoa"
    named = io.StringIO()
    export_directory(named)
    lines = named.getvalue().splitlines()
    assert lines[0] == ",".join((*COLUMNS, "sms_name"))
    assert any(line.startswith("QN-DCTC-001,") and line.endswith(",Cô Hoa") for line in lines)


def test_the_admin_directory_shows_free_beds_and_when_they_changed(api, token_for, signed_in):
    admin = signed_in("admin")
    before = admin.get("/admin/?q=DEMO-NTL-193&lang=en").get_data(as_text=True)
    assert "6 of 6" in before and "from the directory file" in before
    api.put(
        "/api/v1/service-points/DEMO-NTL-193/occupancy",
        json={"free_beds": 2},
        headers=token_for("admin"),
    )
    after = admin.get("/admin/?q=DEMO-NTL-193&lang=en").get_data(as_text=True)
    assert "2 of 6" in after and "from the directory file" not in after
