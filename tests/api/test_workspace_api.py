"""The operator workspace in the API, rule by rule as DESIGN.md section 11 states it: the case
list and search, notes, corrections, referrals by hand, messages to the survivor, tasks and
voicemail audio."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text, update

from hotline.privacy import number_hash
from models import (
    Alert,
    AuditEvent,
    Case,
    CaseNote,
    Contact,
    FollowUp,
    Message,
    OptOut,
    OutboxItem,
    Referral,
    ServicePoint,
    Task,
    db,
)
from models.types import utcnow
from tests.factories import CANARY_E164, CANARY_NOTE, case_body
from tests.webclient import ROLE_USERS
from tests.webhooks import BASE, CALLER

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CANARY_TEXT = "canary-reply-Nguyễn-Thị-Hoa-123"


@pytest.fixture
def api(app):
    return app.test_client()


def create(api, headers, **overrides) -> str:
    response = api.post("/api/v1/cases", json=case_body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["reference"]


def safe_hours(inside: bool) -> str:
    """Safe hours around the current local time, or starting three hours from now."""
    local = datetime.now(TZ)
    start = local - timedelta(hours=1) if inside else local + timedelta(hours=3)
    return f"{start:%H:%M}-{start + timedelta(hours=2):%H:%M}"


def sms_case(app, twilio, sid: str = "SM" + "a" * 32, sender: str = CALLER) -> str:
    """A case started by SMS (the conversation names a place): its reference."""
    twilio.sms("Tôi ở Tiên Yên, cứu tôi", sid, sender=sender)
    with app.app_context():
        return db.session.scalar(
            select(Case.reference)
            .join(Contact, Case.contact_id == Contact.id)
            .where(Contact.caller_hash == number_hash(sender))
        )


def audit(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- list and search ---------------------------------------------------------------------


def test_list_is_newest_first_and_pages_by_cursor_without_gaps(api, app, token_for):
    headers = token_for("operator")
    made = [create(api, headers) for _ in range(5)]
    with app.app_context():  # same second for some: the id breaks the tie
        db.session.execute(update(Case).values(created_at=datetime(2026, 11, 2, 3, tzinfo=UTC)))
        db.session.commit()
    seen, cursor = [], None
    for _ in range(5):
        url = "/api/v1/cases?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url, headers=headers).get_json()
        assert len(page["items"]) <= 2
        seen += [i["reference"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))  # newest (highest id) first, each exactly once
    item = api.get("/api/v1/cases?limit=1", headers=headers).get_json()["items"][0]
    assert set(item) == {
        "reference",
        "created_at",
        "channel",
        "status",
        "risk",
        "commune_code",
        "service_point",
    }
    assert item["service_point"] == {
        "code": "DEMO-DCTC-06862",
        "name": item["service_point"]["name"],
    }


def test_filters_by_status_commune_and_dates(api, app, token_for):
    headers = token_for("operator")
    tien_yen = create(api, headers)
    other = create(api, headers, area={"commune_code": "06895"})
    unreferred = create(api, headers, consent={"referral": False, "follow_up": False})
    with app.app_context():
        db.session.execute(
            update(Case)
            .where(Case.reference == other)
            .values(created_at=datetime(2026, 10, 31, 18, tzinfo=UTC))  # 1 Nov, 01:00 local
        )
        db.session.commit()

    def refs(query: str) -> set[str]:
        response = api.get(f"/api/v1/cases?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return {i["reference"] for i in response.get_json()["items"]}

    assert refs("commune_code=06895") == {other}
    assert refs("status=open") == {unreferred}
    assert tien_yen in refs("status=referred") and unreferred not in refs("status=referred")
    assert refs("since=2026-11-01&until=2026-11-01") == {other}  # local dates, not UTC
    assert other not in refs("until=2026-10-31")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("since=2026-13-01", "since"),
        ("until=yesterday", "until"),
        ("since=0001-01-01", "since"),  # local midnight is before UTC's first day
        ("since=2026-11-02&until=2026-11-01", "until"),
        ("status=lost", "status"),
        ("commune_code=6862", "commune_code"),
        ("cursor=not-a-cursor", "cursor"),
        ("q=" + "9" * 65, "q"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(api, token_for, query, field):
    response = api.get(f"/api/v1/cases?{query}", headers=token_for("operator"))
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [field]


def test_search_by_reference_finds_exactly_that_case(api, token_for):
    headers = token_for("operator")
    wanted = create(api, headers)
    create(api, headers)
    for q in (wanted, wanted.lower()):
        items = api.get(f"/api/v1/cases?q={q}", headers=headers).get_json()["items"]
        assert [i["reference"] for i in items] == [wanted]
    assert api.get("/api/v1/cases?q=QN0000-ZZZZZ", headers=headers).get_json()["items"] == []


@pytest.mark.parametrize(
    "written", ["0900 777 111", "0900.777.111", "+84 900 777 111", "84900777111", "0900777111"]
)
def test_search_by_safe_contact_number_in_any_format_is_audited_without_the_number(
    api, app, token_for, written
):
    headers = token_for("operator")
    wanted = create(api, headers)  # safe contact CANARY_PHONE = 0900 777 111
    create(
        api,
        headers,
        safe_contact={"channel": "sms", "phone": "0900 777 999", "hours": "09:00-11:00"},
    )
    response = api.get("/api/v1/cases", query_string={"q": written}, headers=headers)
    assert [i["reference"] for i in response.get_json()["items"]] == [wanted]
    (event,) = audit(app, "case.search")
    assert event.details == {"by": "number", "found": 1}
    assert event.actor_label == ROLE_USERS["operator"]
    with app.app_context():
        raw = db.session.execute(
            text("SELECT details FROM audit_event WHERE action='case.search'")
        )
        stored = str(raw.scalar())
    assert "777" not in stored and "900" not in stored


def test_search_by_caller_number_finds_the_sms_cases_of_that_number(api, app, token_for, twilio):
    first = sms_case(app, twilio, "SM" + "1" * 32, sender="+84900555001")
    sms_case(app, twilio, "SM" + "2" * 32, sender="+84900555002")
    items = api.get("/api/v1/cases?q=0900%20555%20001", headers=token_for("operator")).get_json()[
        "items"
    ]
    assert [i["reference"] for i in items] == [first]
    assert items[0]["channel"] == "sms"


def test_a_search_by_reference_is_not_audited_as_a_number_search(api, app, token_for):
    headers = token_for("operator")
    reference = create(api, headers)
    api.get(f"/api/v1/cases?q={reference}", headers=headers)
    assert audit(app, "case.search") == []


def test_social_workers_list_only_cases_referred_to_their_points(api, token_for):
    headers = token_for("operator")
    mine = create(api, headers)  # routed to the demo social worker's trusted address
    create(api, headers, area={"commune_code": "06895"})
    create(api, headers, consent={"referral": False, "follow_up": False})
    items = api.get("/api/v1/cases", headers=token_for("social_worker")).get_json()["items"]
    assert [i["reference"] for i in items] == [mine]


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_other_roles_cannot_list_cases(api, token_for, role):
    assert api.get("/api/v1/cases", headers=token_for(role)).status_code == 403


# --- notes ----------------------------------------------------------------------------------


def test_a_note_is_added_encrypted_and_shown_with_the_case(api, app, token_for):
    headers = token_for("operator")
    reference = create(api, headers)
    response = api.post(
        f"/api/v1/cases/{reference}/notes", json={"text": CANARY_NOTE}, headers=headers
    )
    assert response.status_code == 201
    note = response.get_json()
    assert note["text"] == CANARY_NOTE and note["author"] == ROLE_USERS["operator"]
    case = api.get(f"/api/v1/cases/{reference}", headers=headers).get_json()
    assert [n["text"] for n in case["notes"]] == [CANARY_NOTE]
    assert case["notes"][0]["id"] == note["id"]
    with app.app_context():
        raw = db.session.execute(text("SELECT text FROM case_note")).scalar()
    assert "canary" not in raw


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   "}, {"text": "x" * 10_001}, {}, []])
def test_an_empty_or_long_note_is_refused_and_nothing_is_stored(api, app, token_for, body):
    headers = token_for("operator")
    reference = create(api, headers)
    response = api.post(f"/api/v1/cases/{reference}/notes", json=body, headers=headers)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(CaseNote.id))) == 0


def test_social_workers_cannot_add_notes_or_read_them(api, token_for):
    reference = create(api, token_for("operator"))
    sw = token_for("social_worker")
    assert (
        api.post(f"/api/v1/cases/{reference}/notes", json={"text": "x"}, headers=sw).status_code
        == 403
    )
    assert "notes" not in api.get(f"/api/v1/cases/{reference}", headers=sw).get_json()


def test_notes_are_shredded_by_retention(api, app, token_for):
    from hotline.retention.purge import purge_expired

    headers = token_for("operator")
    reference = create(api, headers)
    api.post(f"/api/v1/cases/{reference}/notes", json={"text": CANARY_NOTE}, headers=headers)
    with app.app_context():
        purge_expired(days=1, now=utcnow() + timedelta(days=2))
        assert db.session.scalar(select(CaseNote.text)) is None
        assert db.session.scalar(select(Case.safe_hash)) is None


# --- PATCH ----------------------------------------------------------------------------------


def test_patch_completes_an_sms_case_and_the_audit_names_fields_not_values(
    api, app, twilio, token_for
):
    reference = sms_case(app, twilio)
    headers = token_for("operator")
    patch = {
        "violence_types": ["psychological_abuse"],
        "consent": {"reporting": True, "follow_up": True},
        "safe_contact": {"channel": "sms", "phone": "0900 777 111", "hours": "08:00-10:00"},
        "survivor": {"sex": "female"},
        "notes": CANARY_NOTE,
    }
    response = api.patch(f"/api/v1/cases/{reference}", json=patch, headers=headers)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["consent"] == {"referral": True, "follow_up": True, "reporting": True}
    assert data["violence_types"] == ["psychological_abuse"]
    assert data["safe_contact"]["phone"] == CANARY_E164
    assert data["survivor"]["sex"] == "female" and data["channel"] == "sms"
    (event,) = audit(app, "case.update")
    assert event.details == {
        "fields": [
            "consent.follow_up",
            "consent.reporting",
            "notes",
            "safe_contact.channel",
            "safe_contact.hours",
            "safe_contact.phone",
            "survivor.sex",
            "violence_types",
        ]
    }
    with app.app_context():
        stored = db.session.execute(
            text("SELECT details FROM audit_event WHERE action = 'case.update'")
        ).scalar()
        case = db.session.scalar(select(Case).where(Case.reference == reference))
        assert case.safe_hash == number_hash(CANARY_E164)
    assert "canary" not in str(stored) and "777" not in str(stored)
    # the number now finds the case
    found = api.get("/api/v1/cases?q=0900777111", headers=headers).get_json()["items"]
    assert [i["reference"] for i in found] == [reference]


def test_patch_with_a_new_place_routes_again_and_keeps_the_referral(api, app, token_for):
    headers = token_for("operator")
    reference = create(api, headers)
    response = api.patch(
        f"/api/v1/cases/{reference}", json={"area": {"commune_code": "06895"}}, headers=headers
    )
    assert response.status_code == 200
    data = response.get_json()
    assert data["area"]["commune_code"] == "06895"
    assert data["routing"]["service_point"]["code"] == "DEMO-DCTC-06895"
    assert [r["service_point"]["code"] for r in data["referrals"]] == ["DEMO-DCTC-06862"]
    assert audit(app, "case.update")[0].details == {"fields": ["area"]}


def test_patch_giving_referral_consent_refers_and_alerts(api, app, token_for):
    headers = token_for("operator")
    reference = create(api, headers, consent={"referral": False, "follow_up": False})
    with app.app_context():
        assert db.session.scalar(select(func.count(Referral.id))) == 0
    response = api.patch(
        f"/api/v1/cases/{reference}", json={"consent": {"referral": True}}, headers=headers
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "referred"
    with app.app_context():
        assert db.session.scalar(select(func.count(Alert.id))) == 1
        assert (
            db.session.scalar(
                select(func.count(OutboxItem.id)).where(OutboxItem.job == "alerts.send")
            )
            == 1
        )


@pytest.mark.parametrize(
    ("patch", "fields"),
    [
        ({"channel": "sms"}, ["channel"]),
        ({"contact_sid": "CA1"}, ["contact_sid"]),
        ({"risk": "extreme"}, ["risk"]),
        ({"area": {"commune_code": "99999"}}, ["area"]),
        (
            {"consent": {"follow_up": True}, "safe_contact": {"channel": "none"}},
            ["safe_contact.channel"],
        ),
        (
            {"survivor": {"age_band": "old"}, "channel": "walk_in"},
            ["age_band", "channel"],  # as a POST names it
        ),
        ([], ["body"]),
    ],
)
def test_a_bad_patch_is_a_422_and_changes_nothing(api, app, token_for, patch, fields):
    headers = token_for("operator")
    reference = create(api, headers)
    response = api.patch(f"/api/v1/cases/{reference}", json=patch, headers=headers)
    assert response.status_code == 422
    assert sorted(response.get_json()["errors"]) == fields
    after = api.get(f"/api/v1/cases/{reference}", headers=headers).get_json()
    assert after["risk"] == "high" and after["channel"] == "voice"
    assert after["area"]["commune_code"] == "06862" and after["survivor"]["age_band"] == "26-40"
    assert audit(app, "case.update") == []


def test_only_operators_patch(api, token_for):
    reference = create(api, token_for("operator"))
    response = api.patch(
        f"/api/v1/cases/{reference}", json={"risk": "low"}, headers=token_for("social_worker")
    )
    assert response.status_code == 403
    assert (
        api.patch("/api/v1/cases/QN0000-AAAAA", json={}, headers=token_for("operator")).status_code
        == 404
    )


# --- referral by hand -----------------------------------------------------------------------


def test_a_referral_by_hand_is_alerted_like_a_routed_one(api, app, token_for):
    headers = token_for("operator")
    reference = create(api, headers)
    with app.app_context():
        legal = db.session.scalar(
            select(ServicePoint.code).where(ServicePoint.kind == "legal_aid", ServicePoint.active)
        )
    response = api.post(
        f"/api/v1/cases/{reference}/referrals",
        json={"service_point": legal, "note": "needs a lawyer"},
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["service_point"]["code"] == legal and data["status"] == "pending"
    with app.app_context():
        referral = db.session.get(Referral, data["id"])
        assert referral.chosen_by == "operator"
        alert = db.session.scalar(select(Alert).where(Alert.referral_id == referral.id))
        assert alert.escalate_at is not None
        assert db.session.scalar(
            select(OutboxItem.id).where(OutboxItem.dedupe_key == f"alert:{alert.id}")
        )
    again = api.post(
        f"/api/v1/cases/{reference}/referrals", json={"service_point": legal}, headers=headers
    )
    assert again.status_code == 422 and list(again.get_json()["errors"]) == ["service_point"]


@pytest.mark.parametrize("code", ["NO-SUCH-POINT", "", 42, None])
def test_a_referral_to_an_unknown_point_is_a_422(api, app, token_for, code):
    headers = token_for("operator")
    reference = create(api, headers)
    response = api.post(
        f"/api/v1/cases/{reference}/referrals", json={"service_point": code}, headers=headers
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["service_point"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Referral.id))) == 1  # the routed one only


def test_a_referral_to_an_inactive_point_is_a_422(api, app, token_for):
    headers = token_for("operator")
    reference = create(api, headers)
    with app.app_context():
        db.session.execute(
            update(ServicePoint).where(ServicePoint.code == "DEMO-DCTC-06895").values(active=False)
        )
        db.session.commit()
    response = api.post(
        f"/api/v1/cases/{reference}/referrals",
        json={"service_point": "DEMO-DCTC-06895"},
        headers=headers,
    )
    assert response.status_code == 422


def test_a_referral_by_hand_needs_referral_consent(api, token_for):
    headers = token_for("operator")
    reference = create(api, headers, consent={"referral": False, "follow_up": False})
    response = api.post(
        f"/api/v1/cases/{reference}/referrals",
        json={"service_point": "DEMO-DCTC-06895"},
        headers=headers,
    )
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["consent.referral"]


# --- messages to the survivor ---------------------------------------------------------------


def test_a_reply_inside_24_hours_goes_to_the_number_that_wrote(
    api, app, twilio, token_for, fake_twilio, run_burst
):
    reference = sms_case(app, twilio)
    headers = token_for("operator")
    response = api.post(
        f"/api/v1/cases/{reference}/messages", json={"text": CANARY_TEXT}, headers=headers
    )
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["to"] == "conversation"
    run_burst()
    sent = [m for m in fake_twilio.messages if m.form["Body"] == CANARY_TEXT]
    assert len(sent) == 1
    assert sent[0].form["To"] == CALLER
    assert sent[0].form["StatusCallback"] == "https://hotline.test/twilio/status"
    case = api.get(f"/api/v1/cases/{reference}", headers=headers).get_json()
    out = [m for m in case["messages"] if m["direction"] == "out" and m["text"] == CANARY_TEXT]
    assert len(out) == 1 and out[0]["status"] == "sent"
    assert case["messages"][0]["direction"] == "in"  # oldest first
    # the delivery report reaches the thread
    twilio.status(MessageSid=sent[0].sid, MessageStatus="delivered")
    case = api.get(f"/api/v1/cases/{reference}", headers=headers).get_json()
    assert [m["status"] for m in case["messages"] if m["text"] == CANARY_TEXT] == ["delivered"]
    with app.app_context():
        raw = db.session.execute(
            text("SELECT body FROM message WHERE direction = 'out'")
        ).scalars()
        assert all("canary" not in (b or "") for b in raw)
    run_burst()  # a second run sends nothing more
    assert len([m for m in fake_twilio.messages if m.form["Body"] == CANARY_TEXT]) == 1


def test_a_reply_to_the_safe_contact_inside_safe_hours(
    api, app, token_for, fake_twilio, run_burst
):
    headers = token_for("operator")
    reference = create(
        api,
        headers,
        safe_contact={"channel": "sms", "phone": "0900 777 111", "hours": safe_hours(True)},
    )
    response = api.post(
        f"/api/v1/cases/{reference}/messages", json={"text": CANARY_TEXT}, headers=headers
    )
    assert response.status_code == 202
    assert response.get_json()["to"] == "safe_contact"
    run_burst()
    sent = [m for m in fake_twilio.messages if m.form["Body"] == CANARY_TEXT]
    assert [m.form["To"] for m in sent] == [CANARY_E164]


def refused(api, headers, reference, reason, fake_twilio, run_burst, app):
    response = api.post(
        f"/api/v1/cases/{reference}/messages", json={"text": CANARY_TEXT}, headers=headers
    )
    assert response.status_code == 409, response.get_json()
    body = response.get_json()
    assert body["reason"] == reason
    assert isinstance(body["error"], str) and len(body["error"]) > 20
    run_burst()
    assert [m for m in fake_twilio.messages if m.form["Body"] == CANARY_TEXT] == []
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(Message.id)).where(
                    Message.direction == "out", Message.status != "replied"
                )
            )
            == 0
        )
        assert (
            db.session.scalar(
                select(func.count(OutboxItem.id)).where(OutboxItem.job == "cases.send_reply")
            )
            == 0
        )
    return body


def test_409_no_consent(api, app, token_for, fake_twilio, run_burst):
    headers = token_for("operator")
    reference = create(
        api,
        headers,
        consent={"referral": True, "follow_up": False, "reporting": True},
        safe_contact={"channel": "none"},
    )
    refused(api, headers, reference, "no_consent", fake_twilio, run_burst, app)


def test_409_no_channel(api, app, token_for, fake_twilio, run_burst):
    headers = token_for("operator")
    reference = create(
        api,
        headers,
        safe_contact={"channel": "call", "phone": "0900 777 111", "hours": safe_hours(True)},
    )
    refused(api, headers, reference, "no_channel", fake_twilio, run_burst, app)


def test_409_outside_safe_hours(api, app, token_for, fake_twilio, run_burst):
    headers = token_for("operator")
    hours = safe_hours(False)  # once: the minute may turn between two readings
    reference = create(
        api,
        headers,
        safe_contact={"channel": "sms", "phone": "0900 777 111", "hours": hours},
    )
    body = refused(api, headers, reference, "outside_safe_hours", fake_twilio, run_burst, app)
    assert hours.split("-")[0] in body["error"]


def test_409_opted_out_safe_contact(api, app, token_for, fake_twilio, run_burst):
    headers = token_for("operator")
    reference = create(
        api,
        headers,
        safe_contact={"channel": "sms", "phone": "0900 777 111", "hours": safe_hours(True)},
    )
    with app.app_context():
        db.session.add(OptOut(number_hash=number_hash(CANARY_E164), opted_out=True))
        db.session.commit()
    refused(api, headers, reference, "opted_out", fake_twilio, run_burst, app)


def test_409_opted_out_inside_the_24_hour_window(
    api, app, twilio, token_for, fake_twilio, run_burst
):
    reference = sms_case(app, twilio)
    twilio.sms("STOP", "SM" + "s" * 32)
    refused(api, token_for("operator"), reference, "opted_out", fake_twilio, run_burst, app)


def test_409_after_the_24_hour_window(api, app, twilio, token_for, fake_twilio, run_burst):
    reference = sms_case(app, twilio)
    with app.app_context():
        db.session.execute(update(Message).values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
    # SMS-started cases have no follow-up consent: the window was the only way
    refused(api, token_for("operator"), reference, "no_consent", fake_twilio, run_burst, app)


def test_a_safe_contact_reply_queued_in_time_is_not_sent_once_hours_are_over(
    api, app, token_for, fake_twilio, run_burst
):
    headers = token_for("operator")
    reference = create(
        api,
        headers,
        safe_contact={"channel": "sms", "phone": "0900 777 111", "hours": safe_hours(True)},
    )
    assert (
        api.post(
            f"/api/v1/cases/{reference}/messages", json={"text": CANARY_TEXT}, headers=headers
        ).status_code
        == 202
    )
    with app.app_context():  # the worker was down until the safe hours ended
        db.session.execute(update(Case).values(safe_hours=safe_hours(False)))
        db.session.commit()
    run_burst()
    assert [m for m in fake_twilio.messages if m.form["Body"] == CANARY_TEXT] == []
    with app.app_context():
        assert (
            db.session.scalar(select(Message.status).where(Message.case_id.is_not(None)))
            == "failed"
        )


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "x" * 641}, {"text": 5}, {}])
def test_an_empty_or_long_message_is_a_422(api, app, twilio, token_for, body):
    reference = sms_case(app, twilio)
    response = api.post(
        f"/api/v1/cases/{reference}/messages", json=body, headers=token_for("operator")
    )
    assert response.status_code == 422 and list(response.get_json()["errors"]) == ["text"]


# --- tasks ----------------------------------------------------------------------------------


def tasks(api, headers, status: str = "open") -> list[dict]:
    response = api.get(f"/api/v1/tasks?status={status}", headers=headers)
    assert response.status_code == 200
    return response.get_json()["items"]


def test_voicemail_and_callback_become_tasks(api, app, twilio, token_for, fake_twilio):
    sid = "CA" + "7" * 32
    twilio.call(sid)
    twilio.step(f"{BASE}/twilio/voice/menu?n=1", sid, Digits="1")
    twilio.step(f"{BASE}/twilio/voice/dial-done?n=2", sid, DialCallStatus="no-answer")
    url = fake_twilio.add_recording("RE" + "7" * 32)
    twilio.step(
        f"{BASE}/twilio/voice/recorded?n=3",
        sid,
        RecordingUrl=url,
        RecordingSid="RE" + "7" * 32,
        RecordingDuration="3",
    )
    items = tasks(api, token_for("operator"))
    assert sorted(i["kind"] for i in items) == ["callback", "voicemail"]
    voicemail = next(i for i in items if i["kind"] == "voicemail")
    assert voicemail["has_recording"] is True and voicemail["status"] == "open"
    assert voicemail["case_reference"] is None


def test_voicemail_audio_is_fetched_by_the_server_and_the_play_audited(
    api, app, token_for, fake_twilio
):
    from hotline.tasks import open_task
    from tests.fakes.twilio_api import tone_wav

    url = fake_twilio.add_recording("RE" + "8" * 32)
    with app.app_context():
        contact = Contact(
            channel="voice", provider="twilio", provider_sid="CA" + "8" * 32, recording_url=url
        )
        db.session.add(contact)
        db.session.flush()
        task_id = open_task("voicemail", f"contact:{contact.id}", contact_id=contact.id).id
        db.session.commit()
    response = api.get(f"/api/v1/tasks/{task_id}/recording", headers=token_for("operator"))
    assert response.status_code == 200
    assert response.content_type == "audio/x-wav"
    assert response.get_data() == tone_wav()
    assert fake_twilio.url not in str(response.headers)
    (play,) = audit(app, "recording.play")
    assert play.object_id == str(task_id) and play.actor_id is not None
    fetched = [r for r in fake_twilio.requests if "/Recordings/" in r.path]
    assert len(fetched) == 1 and fetched[0].account == fake_twilio.account_sid


def test_recording_is_404_for_other_roles_and_tasks_without_one(api, app, token_for, fake_twilio):
    from hotline.tasks import open_task

    url = fake_twilio.add_recording("RE" + "9" * 32)
    with app.app_context():
        contact = Contact(
            channel="voice", provider="twilio", provider_sid="CA" + "9" * 32, recording_url=url
        )
        plain = Contact(channel="voice", provider="twilio", provider_sid="CA" + "6" * 32)
        db.session.add_all([contact, plain])
        db.session.flush()
        with_audio = open_task("voicemail", f"contact:{contact.id}", contact_id=contact.id).id
        without = open_task("callback", f"contact:{plain.id}", contact_id=plain.id).id
        db.session.commit()
    for role in ("social_worker", "manager", "admin"):
        assert (
            api.get(f"/api/v1/tasks/{with_audio}/recording", headers=token_for(role)).status_code
            == 404
        )
    operator = token_for("operator")
    assert api.get(f"/api/v1/tasks/{without}/recording", headers=operator).status_code == 404
    assert api.get("/api/v1/tasks/999999/recording", headers=operator).status_code == 404
    assert [r for r in fake_twilio.requests if "/Recordings/" in r.path] == []
    assert audit(app, "recording.play") == []


def test_a_recording_gone_at_the_provider_is_404_and_a_foreign_url_is_never_fetched(
    api, app, token_for, fake_twilio
):
    from hotline.tasks import open_task

    with app.app_context():
        gone = Contact(
            channel="voice",
            provider="twilio",
            provider_sid="CA" + "5" * 32,
            recording_url=f"{fake_twilio.url}/2010-04-01/Accounts/{fake_twilio.account_sid}/Recordings/RE404",
        )
        foreign = Contact(
            channel="voice",
            provider="twilio",
            provider_sid="CA" + "4" * 32,
            recording_url="https://evil.example/rec.wav",
        )
        db.session.add_all([gone, foreign])
        db.session.flush()
        ids = [
            open_task("voicemail", f"contact:{c.id}", contact_id=c.id).id for c in (gone, foreign)
        ]
        db.session.commit()
    operator = token_for("operator")
    assert api.get(f"/api/v1/tasks/{ids[0]}/recording", headers=operator).status_code == 404
    response = api.get(f"/api/v1/tasks/{ids[1]}/recording", headers=operator)
    assert response.status_code == 502
    assert "evil" not in response.get_data(as_text=True)


def test_closing_a_task_takes_it_off_the_open_list_once(api, app, token_for):
    from hotline.tasks import open_task

    with app.app_context():
        contact = Contact(channel="voice", provider="twilio", provider_sid="CA" + "3" * 32)
        db.session.add(contact)
        db.session.flush()
        task_id = open_task("callback", f"contact:{contact.id}", contact_id=contact.id).id
        db.session.commit()
    headers = token_for("operator")
    bad = api.post(f"/api/v1/tasks/{task_id}/done", json={"outcome": "maybe"}, headers=headers)
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["outcome"]
    assert [t["id"] for t in tasks(api, headers)] == [task_id]
    done = api.post(
        f"/api/v1/tasks/{task_id}/done",
        json={"outcome": "reached", "note": CANARY_NOTE},
        headers=headers,
    )
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    assert done.get_json()["outcome"] == "reached"
    assert tasks(api, headers) == []
    assert [t["id"] for t in tasks(api, headers, "done")] == [task_id]
    again = api.post(
        f"/api/v1/tasks/{task_id}/done", json={"outcome": "no_answer"}, headers=headers
    )
    assert again.status_code == 409
    with app.app_context():
        assert db.session.get(Task, task_id).outcome == "reached"
        raw = db.session.execute(text("SELECT note FROM task")).scalar()
        assert "canary" not in raw
    (event,) = audit(app, "task.done")
    assert event.details == {"kind": "callback", "outcome": "reached"}
    assert api.get("/api/v1/tasks", headers=token_for("social_worker")).status_code == 403
    assert api.get("/api/v1/tasks?status=all", headers=headers).status_code == 422


def test_a_due_follow_up_call_is_a_task_and_closing_it_closes_the_follow_up(
    api, app, token_for, fake_twilio, run_burst
):
    from hotline.followups.schedule import schedule_follow_ups

    headers = token_for("operator")
    reference = create(
        api,
        headers,
        safe_contact={"channel": "call", "phone": "0900 777 111", "hours": safe_hours(True)},
    )
    with app.app_context():
        schedule_follow_ups()
        now = utcnow()
        db.session.execute(update(FollowUp).values(due_at=now))
        db.session.execute(
            update(OutboxItem).where(OutboxItem.job == "followups.send").values(available_at=now)
        )
        db.session.commit()
    run_burst()
    items = tasks(api, headers)
    assert [(i["kind"], i["case_reference"]) for i in items] == [("follow_up_call", reference)] * 2
    api.post(f"/api/v1/tasks/{items[0]['id']}/done", json={"outcome": "reached"}, headers=headers)
    with app.app_context():
        statuses = sorted(db.session.scalars(select(FollowUp.status)))
    assert statuses == ["called", "due_call"]


def test_an_sms_conversation_without_a_place_is_a_task(api, app, twilio, token_for):
    for n, body in enumerate(("giúp em", "không biết", "ở nhà")):
        twilio.sms(body, f"SM{n:032d}")
    (item,) = tasks(api, token_for("operator"))
    assert item["kind"] == "sms_unrouted" and item["case_reference"].startswith("QN")


def test_a_case_no_point_accepted_is_a_task(api, app, token_for):
    reference = create(api, token_for("operator"), area={"commune_code": "06895"})
    with app.app_context():
        from hotline.referrals.actions import decline

        while True:  # every point of the chain declines, the provincial centre last
            referral = db.session.scalar(select(Referral).where(Referral.status == "pending"))
            if referral is None:
                break
            decline(referral, None, "no_capacity", via="link")
            db.session.commit()
    (item,) = tasks(api, token_for("operator"))
    assert (item["kind"], item["case_reference"]) == ("referral_declined", reference)


def test_tasks_are_opened_once_per_thing(app, ctx):
    from hotline.tasks import open_task

    contact = Contact(channel="voice", provider="twilio", provider_sid="CA" + "2" * 32)
    db.session.add(contact)
    db.session.flush()
    first = open_task("voicemail", f"contact:{contact.id}", contact_id=contact.id)
    second = open_task("voicemail", f"contact:{contact.id}", contact_id=contact.id)
    db.session.commit()
    assert first.id == second.id
    assert db.session.scalar(select(func.count(Task.id))) == 1
    with pytest.raises(ValueError):
        open_task("chat", "contact:1")
