"""The operator board and intake, the case page and the social worker's inbox."""

from __future__ import annotations

import re

import pytest

from models import AuditEvent, Case, Referral, db
from tests.webclient import ROLE_USERS, case_by_reference, post_form

XSS = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>']

INTAKE = {
    "safe_now": "yes",
    "channel": "sms",
    "commune_code": "06862",
    "survivor_sex": "female",
    "survivor_age_band": "26-40",
    "violence_types": "physical_assault",
    "contexts": "domestic_violence",
    "perpetrator_relationship": "husband",
    "risk": "high",
    "needs": "counselling",
    "consent_referral": "yes",
    "consent_follow_up": "yes",
    "consent_reporting": "yes",
    "safe_channel": "sms",
    "safe_phone": "0900 777 111",
    "safe_from": "09:00",
    "safe_to": "11:00",
    "notes": "note from the form",
}


def test_board_lists_live_contacts_with_masked_numbers(signed_in, make_contact):
    make_contact("sms", number="+84900555123", body="Tôi cần giúp đỡ")
    make_contact("voice", number="+84900555456", body=None)
    make_contact("voice", number="+84900555789", recording_url="https://rec.example/1")
    page = signed_in("operator").get("/operator/board/live").get_data(as_text=True)
    assert "••• 123" in page and "••• 456" in page and "••• 789" in page
    assert "900555" not in page
    assert "Tôi cần giúp đỡ" in page


def test_board_counts_repeat_callers_by_hash(signed_in, make_contact):
    make_contact("sms", number="+84900555123")
    make_contact("voice", number="+84900555123", body=None, status="completed")
    make_contact("voice", number="+84900555123", body=None)
    page = signed_in("operator").get("/operator/board/live").get_data(as_text=True)
    badge = re.search(r"badge high\">([^<]*)<", page).group(1)
    assert badge == "Người gọi lại: đã liên lạc 2 lần trước"  # two earlier contacts


def test_contact_with_a_case_leaves_the_board(signed_in, make_contact, app):
    contact_id = make_contact("sms", number="+84900555123")
    client = signed_in("operator")
    response = post_form(client, f"/intake/new?contact={contact_id}", INTAKE | {"action": "save"})
    assert response.status_code == 302
    assert "••• 123" not in client.get("/operator/board/live").get_data(as_text=True)


def test_revealing_a_number_is_deliberate_and_audited(signed_in, make_contact, app):
    contact_id = make_contact("sms", number="+84900555123")
    client = signed_in("operator")
    assert client.get(f"/operator/contacts/{contact_id}/reveal").status_code == 405
    page = post_form(client, f"/operator/contacts/{contact_id}/reveal").get_data(as_text=True)
    assert "+84900555123" in page
    with app.app_context():
        event = db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.action == "contact.reveal")
        )
        assert event.object_id == str(contact_id)
        assert event.actor_label == ROLE_USERS["operator"]


def test_unacknowledged_alerts_show_on_the_board(signed_in, make_case):
    reference = make_case()
    page = signed_in("operator").get("/operator/board/live").get_data(as_text=True)
    assert reference in page


def test_intake_preview_shows_routing_and_reason_before_saving(signed_in, app):
    client = signed_in("operator")
    page = post_form(client, "/intake/new", INTAKE | {"action": "preview"}).get_data(as_text=True)
    assert "Địa chỉ tin cậy xã Tiên Yên" in page
    assert "Lý do:" in page
    with app.app_context():
        assert db.session.query(Case).count() == 0
    fragment = post_form(client, "/intake/preview", {"area_text": "tien yen", "risk": "high"})
    assert "Tiên Yên" in fragment.get_data(as_text=True)


def test_intake_from_an_sms_contact_creates_a_linked_routed_case(signed_in, make_contact, app):
    contact_id = make_contact("sms", number="+84900555123")
    client = signed_in("operator")
    response = post_form(client, f"/intake/new?contact={contact_id}", INTAKE | {"action": "save"})
    assert response.status_code == 302
    reference = response.headers["Location"].rsplit("/", 1)[-1]
    with app.app_context():
        case = case_by_reference(reference)
        assert case.contact_id == contact_id and case.channel == "sms"
        assert case.notes == "note from the form" and case.safe_phone == "+84900777111"
        assert case.safe_hours == "09:00-11:00"
        assert case.referrals[0].service_point.code == "DEMO-DCTC-06862"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert reference in page and "Tiên Yên" in page


def test_intake_errors_show_next_to_the_fields_and_nothing_is_stored(signed_in, app):
    client = signed_in("operator")
    bad = INTAKE | {"action": "save", "risk": "", "safe_phone": "12", "commune_code": ""}
    response = post_form(client, "/intake/new", bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="err-risk"' in page and 'id="err-safe_phone"' in page and 'id="err-place"' in page
    assert 'value="note from the form"' not in page  # notes keep their text in the textarea
    assert "note from the form" in page
    with app.app_context():
        assert db.session.query(Case).count() == 0


def test_in_danger_now_makes_the_risk_immediate(signed_in, app):
    client = signed_in("operator")
    response = post_form(
        client, "/intake/new", INTAKE | {"action": "save", "risk": "", "in_danger": "yes"}
    )
    assert response.status_code == 302
    with app.app_context():
        case = db.session.scalar(db.select(Case))
        assert case.risk == "immediate"
        assert "call_113" in case.routing["instructions"]


def test_choosing_another_point_needs_a_reason(signed_in, app):
    client = signed_in("operator")
    page = post_form(client, "/intake/new", INTAKE | {"action": "preview"}).get_data(as_text=True)
    alternates = re.findall(r'<option value="([^"]+)">', page.split('id="override_code"')[1])
    other = next(code for code in alternates if code != "DEMO-DCTC-06862")
    refused = post_form(client, "/intake/new", INTAKE | {"action": "save", "override_code": other})
    assert refused.status_code == 422 and "override_reason" in refused.get_data(as_text=True)
    saved = post_form(
        client,
        "/intake/new",
        INTAKE | {"action": "save", "override_code": other, "override_reason": "closer to her"},
    )
    assert saved.status_code == 302
    with app.app_context():
        referral = db.session.scalars(db.select(Referral)).first()
        assert referral.service_point.code == other and referral.chosen_by == "operator"


def test_case_page_has_the_timeline_and_who_viewed_it(signed_in, make_case, app):
    reference = make_case()
    sw = signed_in("social_worker")
    post_form(sw, f"/inbox/referrals/{_referral_id(app)}/acknowledge")
    sw.get(f"/cases/{reference}")
    page = signed_in("operator").get(f"/cases/{reference}").get_data(as_text=True)
    for text in ("Diễn biến", "Đã chuyển tới", "đã xác nhận", "Cảnh báo tới"):
        assert text in page, text
    views = page.split('id="h-views"')[1]
    assert ROLE_USERS["social_worker"] in views and ROLE_USERS["operator"] in views


def _referral_id(app) -> int:
    with app.app_context():
        return db.session.scalar(
            db.select(Referral.id).where(Referral.service_point.has(code="DEMO-DCTC-06862"))
        )


def test_social_worker_case_page_shows_the_minimum_only(signed_in, make_case):
    reference = make_case()
    page = signed_in("social_worker").get(f"/cases/{reference}").get_data(as_text=True)
    assert reference in page and "Xã Tiên Yên" in page
    assert "canary-note" not in page and "900777111" not in page
    assert "Bạo lực thể chất" not in page  # violence type is not theirs to see


def test_inbox_lists_only_own_referrals_and_acts_on_them(signed_in, make_case, app):
    own = make_case()
    other = make_case(area={"commune_code": "06895"})
    client = signed_in("social_worker")
    page = client.get("/inbox/").get_data(as_text=True)
    assert own in page and other not in page
    referral_id = _referral_id(app)
    assert post_form(client, f"/inbox/referrals/{referral_id}/acknowledge").status_code == 302
    assert post_form(client, f"/inbox/referrals/{referral_id}/accept").status_code == 302
    post_form(
        client,
        f"/inbox/referrals/{referral_id}/outcome",
        {"services_received": ["counselling", "legal"], "notes": "done"},
    )
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        assert referral.status == "closed" and referral.acknowledged_via == "inbox"
        assert referral.services_received == ["counselling", "legal"]


def test_declining_needs_a_reason(signed_in, make_case, app):
    make_case()
    client = signed_in("social_worker")
    referral_id = _referral_id(app)
    for reason in ("  ", "no staff"):  # a coded reason is required
        response = post_form(client, f"/inbox/referrals/{referral_id}/decline", {"reason": reason})
        assert response.status_code == 302
        assert "Hãy chọn lý do từ chối" in client.get("/inbox/").get_data(as_text=True)
        with app.app_context():
            assert db.session.get(Referral, referral_id).status == "pending"
    post_form(
        client,
        f"/inbox/referrals/{referral_id}/decline",
        {"reason": "no_capacity", "note": "no staff"},
    )
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        assert referral.status == "declined" and referral.decline_reason == "no staff"
        assert referral.decline_code == "no_capacity"


def test_other_communes_social_worker_cannot_open_or_act(signed_in, make_case, app):
    reference = make_case()
    client = signed_in("sw-dam-ha")
    assert client.get(f"/cases/{reference}").status_code == 404
    referral_id = _referral_id(app)
    assert post_form(client, f"/inbox/referrals/{referral_id}/acknowledge").status_code == 404
    with app.app_context():
        assert db.session.get(Referral, referral_id).acknowledged_at is None


@pytest.mark.parametrize("payload", XSS)
def test_hostile_text_renders_as_text_everywhere(signed_in, make_contact, make_case, app, payload):
    contact_id = make_contact("sms", number="+84900555123", body=payload)
    reference = make_case(notes=payload)
    with app.app_context():
        db.session.execute(
            db.update(Case).where(Case.reference == reference).values(contact_id=contact_id)
        )
        db.session.commit()
    operator = signed_in("operator")
    pages = [
        operator.get("/operator/").get_data(as_text=True),
        operator.get("/operator/board/live").get_data(as_text=True),
        operator.get(f"/intake/new?contact={contact_id}").get_data(as_text=True),
        operator.get(f"/cases/{reference}").get_data(as_text=True),
        post_form(operator, "/intake/new", {"area_text": payload}).get_data(as_text=True),
    ]
    for page in pages:
        assert payload not in page
        assert "<script>alert" not in page and "<img src=x" not in page
    assert any("&lt;script&gt;" in p or "&#34;&gt;&lt;img" in p for p in pages)


def test_contact_id_that_does_not_exist_is_404(signed_in):
    client = signed_in("operator")
    assert client.get("/intake/new?contact=999999").status_code == 404
    assert client.get("/intake/new?contact=abc").status_code == 404
    assert client.get("/intake/new?contact=99999999999999").status_code == 404


def test_nul_bytes_are_refused_not_a_server_error(signed_in):
    client = signed_in("operator")
    assert client.get("/cases/QN%00").status_code in (400, 404)
    assert post_form(client, "/intake/new", {"area_text": "a\x00b"}).status_code == 400


def test_old_manager_address_leads_to_the_dashboard(signed_in):
    response = signed_in("manager").get("/manager/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard/")


def test_legal_hold_is_toggled_and_audited(signed_in, make_case, app):
    reference = make_case()
    client = signed_in("operator")
    post_form(client, f"/cases/{reference}/legal-hold", {"hold": "yes"})
    with app.app_context():
        assert case_by_reference(reference).legal_hold is True
        assert db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.action == "case.legal_hold")
        ).details == {"hold": True}
