"""The operators' workspace screens (issue 13): the case list and search, and the case
page as a workspace: notes, SMS replies within the rules, referrals by hand, completing
the intake, tasks, the same number's other cases."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from hotline.cases.messages import SEND_REPLY_JOB
from hotline.privacy import number_hash
from models import (
    Alert,
    AuditEvent,
    Case,
    CaseNote,
    Contact,
    Message,
    OutboxItem,
    Referral,
    Task,
    db,
)
from tests.factories import CANARY_E164, CANARY_PHONE
from tests.webclient import case_by_reference, post_form

LEGAL_AID = "DEMO-TGPL-TINH"
#: A value typed into the edit form that must never reach the audit log.
CANARY_EDIT = "canary-sửa-ghi-chú-Đỗ-Thị-Canary"


def english(client):
    """The client with English chosen (the new words are not in the catalogs yet)."""
    client.get("/?lang=en")
    return client


def _link_contact(app, reference: str, contact_id: int) -> None:
    with app.app_context():
        db.session.execute(
            db.update(Case).where(Case.reference == reference).values(contact_id=contact_id)
        )
        db.session.commit()


def _section(page: str, heading_id: str) -> str:
    """The HTML of one ``<section aria-labelledby=…>`` of the page."""
    start = page.index(f'aria-labelledby="{heading_id}"')
    return page[start : page.index("</section>", start)]


# --- the case list ---------------------------------------------------------------------


def test_case_list_shows_cases_newest_first_with_links(signed_in, make_case, app):
    older = make_case()
    newer = make_case(area={"commune_code": "06895"})
    with app.app_context():
        case_by_reference(older).created_at = datetime.now(UTC) - timedelta(days=2)
        db.session.commit()
    response = english(signed_in("operator")).get("/cases/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.index(newer) < page.index(older)
    assert f'href="/cases/{older}"' in page and f'href="/cases/{newer}"' in page
    assert "Referred" in page  # the case status in words, not the code
    assert "Xã Tiên Yên" in page and "Địa chỉ tin cậy xã Tiên Yên" in page


def test_search_by_reference_finds_only_that_case(signed_in, make_case):
    wanted = make_case()
    other = make_case()
    page = signed_in("operator").get(f"/cases/?q={wanted.lower()}").get_data(as_text=True)
    assert wanted in page and other not in page


def test_search_by_number_in_another_format_finds_the_case_and_is_audited(
    signed_in, make_case, app
):
    wanted = make_case()  # safe phone stored as +84900777111
    other = make_case(
        safe_contact={"channel": "sms", "phone": "0900 777 999", "hours": "09:00-11:00"}
    )
    client = english(signed_in("operator"))
    response = post_form(client, "/cases/", {"q": "0900 777 111"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert wanted in page and other not in page
    assert 'class="hint audit-note"' in page
    with app.app_context():
        events = db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.action == "case.search")
        ).all()
        assert len(events) == 1
        logged = json.dumps(events[0].details, ensure_ascii=False)
        assert "900777111" not in logged and "777 111" not in logged


def test_search_by_reference_writes_no_search_audit_event(signed_in, make_case, app):
    reference = make_case()
    page = post_form(english(signed_in("operator")), "/cases/", {"q": reference})
    assert "audit-note" not in page.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "case.search"))
            is None
        )


def test_next_page_link_keeps_the_filters_and_the_cursor(signed_in, make_case, app):
    references = [make_case() for _ in range(3)]
    with app.app_context():
        for n, reference in enumerate(references):
            case_by_reference(reference).created_at = datetime(2026, 3, 10 + n, 3, tzinfo=UTC)
        db.session.commit()
    client = signed_in("operator")
    first = client.get("/cases/?status=referred&limit=2").get_data(as_text=True)
    assert references[2] in first and references[1] in first and references[0] not in first
    link = re.search(r'href="(/cases/\?[^"]*cursor=[^"]+)" rel="next"', first).group(1)
    assert "status=referred" in link
    second = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert references[0] in second and references[2] not in second


def test_social_worker_lists_only_cases_referred_to_their_points(signed_in, make_case):
    own = make_case()
    other = make_case(area={"commune_code": "06895"})
    client = signed_in("social_worker")
    page = client.get("/cases/").get_data(as_text=True)
    assert own in page and other not in page
    assert client.get(f"/cases/{other}").status_code == 404
    assert client.get(f"/cases/{own}").status_code == 200


def test_bad_filters_are_shown_next_to_their_fields(signed_in, make_case):
    make_case()
    response = signed_in("operator").get("/cases/?since=2026-13-45&status=lost")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-since"' in page and 'id="err-status"' in page
    assert 'value="2026-13-45"' in page  # what was typed stays in the field


def test_case_list_is_for_operators_and_social_workers_only(signed_in):
    assert signed_in("manager").get("/cases/").status_code == 403


# --- the case page -----------------------------------------------------------------------


def test_note_is_added_and_an_empty_note_is_refused(signed_in, make_case, app):
    reference = make_case()
    client = english(signed_in("operator"))
    refused = post_form(client, f"/cases/{reference}/notes", {"text": "   "})
    assert refused.status_code == 302
    assert "Write the note." in client.get(f"/cases/{reference}").get_data(as_text=True)
    with app.app_context():
        assert db.session.query(CaseNote).count() == 0
    added = post_form(client, f"/cases/{reference}/notes", {"text": "Called back, <b>safe</b>"})
    assert added.status_code == 302
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    timeline = _section(page, "h-timeline")
    assert "Called back, &lt;b&gt;safe&lt;/b&gt;" in timeline
    with app.app_context():
        note = db.session.scalar(db.select(CaseNote))
        assert note.text == "Called back, <b>safe</b>"


def test_reply_within_24_hours_of_the_survivors_sms_is_queued(
    signed_in, make_case, make_contact, app
):
    contact_id = make_contact("sms", number="+84900555123", body="Tôi cần giúp")
    reference = make_case(
        channel="sms",
        consent={"referral": True, "follow_up": False, "reporting": False},
        safe_contact={"channel": "none"},
    )
    _link_contact(app, reference, contact_id)
    client = english(signed_in("operator"))
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    reply = _section(page, "h-reply")
    assert "Tôi cần giúp" in reply
    assert "To the number that wrote to us" in reply and 'maxlength="640"' in reply
    response = post_form(
        client, f"/cases/{reference}/messages", {"text": "Chào chị, chị ổn không?"}
    )
    assert response.status_code == 302
    with app.app_context():
        sent = db.session.scalar(db.select(Message).where(Message.direction == "out"))
        assert sent.status == "pending" and sent.contact_id == contact_id
        assert sent.body == "Chào chị, chị ổn không?"
        item = db.session.scalar(db.select(OutboxItem).where(OutboxItem.job == SEND_REPLY_JOB))
        assert item.payload == {"message_id": sent.id}


def test_reply_is_refused_in_words_without_consent_and_nothing_is_sent(signed_in, make_case, app):
    reference = make_case(
        consent={"referral": True, "follow_up": False, "reporting": True},
        safe_contact={"channel": "none"},
    )
    client = english(signed_in("operator"))
    reply = _section(client.get(f"/cases/{reference}").get_data(as_text=True), "h-reply")
    assert "did not agree to be contacted" in reply
    assert 'name="text"' not in reply  # the form is replaced by the refusal
    post_form(client, f"/cases/{reference}/messages", {"text": "Chào chị"})
    assert "did not agree to be contacted" in client.get(f"/cases/{reference}").get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.query(Message).filter(Message.direction == "out").count() == 0
        assert db.session.query(OutboxItem).filter(OutboxItem.job == SEND_REPLY_JOB).count() == 0


def test_referral_by_hand_creates_a_referral_and_its_alert(signed_in, make_case, app):
    reference = make_case()
    client = english(signed_in("operator"))
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    refer = _section(page, "h-refer")
    suggested = refer.split("Suggested by routing")[1].split("</optgroup>")[0]
    assert "DEMO-DCTC-06862" in suggested  # the routing decision's point first
    assert f'value="{LEGAL_AID}"' in refer
    response = post_form(
        client, f"/cases/{reference}/referrals", {"service_point": LEGAL_AID, "note": "divorce"}
    )
    assert response.status_code == 302
    with app.app_context():
        referral = db.session.scalar(
            db.select(Referral).where(Referral.service_point.has(code=LEGAL_AID))
        )
        assert referral.chosen_by == "operator" and referral.override_reason == "divorce"
        assert db.session.scalar(db.select(Alert).where(Alert.referral_id == referral.id))


def test_referral_to_an_unknown_point_is_refused_in_words(signed_in, make_case, app):
    reference = make_case()
    client = english(signed_in("operator"))
    post_form(client, f"/cases/{reference}/referrals", {"service_point": "NO-SUCH-POINT"})
    assert "No active service point has this code." in client.get(f"/cases/{reference}").get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.query(Referral).count() == 1  # the routed one only


def _edit_form(**changes) -> dict:
    """The edit form as the browser submits it for a case made by ``make_case()``."""
    form = {
        "commune_code": "06862",
        "survivor_sex": "female",
        "survivor_age_band": "26-40",
        "violence_types": ["physical_assault"],
        "contexts": ["domestic_violence"],
        "perpetrator_relationship": "husband",
        "perpetrator_sex": "male",
        "perpetrator_age_band": "",
        "risk": "high",
        "needs": ["counselling"],
        "consent_referral": "yes",
        "consent_follow_up": "yes",
        "consent_reporting": "yes",
        "safe_channel": "sms",
        "safe_phone": CANARY_E164,
        "safe_from": "09:00",
        "safe_to": "11:00",
        "area_text": "",
    }
    form.update(changes)
    return form


def test_edit_form_is_prefilled_from_the_case(signed_in, make_case):
    reference = make_case()
    page = signed_in("operator").get(f"/cases/{reference}/edit").get_data(as_text=True)
    assert '<option value="06862" selected>' in page
    assert 'value="physical_assault" checked' in page
    assert f'value="{CANARY_E164}"' in page and 'value="09:00"' in page


def test_unchanged_edit_form_changes_nothing(signed_in, make_case, app):
    reference = make_case()
    with app.app_context():
        notes = case_by_reference(reference).notes
    response = post_form(
        signed_in("operator"),
        f"/cases/{reference}/edit",
        _edit_form(notes=notes.replace("\n", "\r\n")),
    )
    assert response.status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "case.update"))
            is None
        )


def test_edit_changes_fields_and_audit_names_them_without_values(signed_in, make_case, app):
    reference = make_case()
    response = post_form(
        signed_in("operator"),
        f"/cases/{reference}/edit",
        _edit_form(
            notes=CANARY_EDIT,
            violence_types=["physical_assault", "psychological_abuse"],
            perpetrator_sex="",
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        case = case_by_reference(reference)
        assert case.notes == CANARY_EDIT and case.perpetrator_sex is None
        assert case.coded("violence_type") == ["physical_assault", "psychological_abuse"]
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "case.update"))
        assert event.details["fields"] == ["notes", "perpetrator.sex", "violence_types"]
        every_detail = json.dumps(
            [e.details for e in db.session.scalars(db.select(AuditEvent))], ensure_ascii=False
        )
        assert "canary-sửa" not in every_detail


def test_edit_errors_are_shown_next_to_the_fields_and_nothing_changes(signed_in, make_case, app):
    reference = make_case()
    response = post_form(
        signed_in("operator"), f"/cases/{reference}/edit", _edit_form(safe_phone="12", risk="")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-safe_phone"' in page and 'id="err-risk"' in page
    with app.app_context():
        case = case_by_reference(reference)
        assert case.safe_phone == CANARY_E164 and case.risk == "high"


def test_sms_started_case_asks_to_be_completed(signed_in, make_case):
    sms_case = make_case(
        channel="sms",
        violence_types=[],
        consent={"referral": True, "follow_up": False, "reporting": False},
        safe_contact={"channel": "none"},
    )
    complete = make_case()
    client = english(signed_in("operator"))
    assert "Complete this case." in client.get(f"/cases/{sms_case}").get_data(as_text=True)
    assert "Complete this case." not in client.get(f"/cases/{complete}").get_data(as_text=True)


def test_other_cases_from_the_same_number_are_listed(signed_in, make_case, make_contact, app):
    no_safe_contact = {
        "consent": {"referral": True, "follow_up": False, "reporting": True},
        "safe_contact": {"channel": "none"},
    }
    contact_id = make_contact("voice", number=CANARY_E164, body=None)
    this = make_case(**no_safe_contact)
    _link_contact(app, this, contact_id)
    same_safe_phone = make_case()  # safe phone 0900 777 111, the caller's number
    other_call = make_case(**no_safe_contact)
    _link_contact(app, other_call, make_contact("voice", number=CANARY_E164, body=None))
    unrelated = make_case(
        safe_contact={"channel": "sms", "phone": "0900 777 999", "hours": "09:00-11:00"}
    )
    page = english(signed_in("operator")).get(f"/cases/{this}").get_data(as_text=True)
    listed = _section(page, "h-same-number")
    assert same_safe_phone in listed and other_call in listed
    assert unrelated not in listed and this not in listed
    assert CANARY_PHONE not in page.replace(CANARY_E164, "")  # no number beyond the summary's
    with app.app_context():
        assert number_hash(CANARY_E164) == case_by_reference(same_safe_phone).safe_hash


def test_social_worker_sees_no_workspace_and_cannot_post_to_it(signed_in, make_case, app):
    reference = make_case()
    client = signed_in("social_worker")
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert 'id="h-reply"' not in page and 'id="h-note"' not in page
    assert 'id="h-same-number"' not in page
    assert post_form(client, f"/cases/{reference}/notes", {"text": "x"}).status_code == 403
    assert client.get(f"/cases/{reference}/edit").status_code == 403
    with app.app_context():
        assert db.session.query(CaseNote).count() == 0


def test_opening_the_case_marks_the_conversation_seen(signed_in, make_case, make_contact, app):
    contact_id = make_contact("sms", number="+84900555123", body="Chị ơi")
    reference = make_case(channel="sms")
    _link_contact(app, reference, contact_id)
    with app.app_context():
        assert db.session.get(Contact, contact_id).seen_message_id is None
    signed_in("operator").get(f"/cases/{reference}")
    with app.app_context():
        last = db.session.scalar(db.select(Message.id).where(Message.contact_id == contact_id))
        assert db.session.get(Contact, contact_id).seen_message_id == last


def test_tasks_show_the_voicemail_player_and_close_back_to_the_case(
    signed_in, make_case, make_contact, app
):
    contact_id = make_contact(
        "voice", number="+84900555456", body=None, recording_url="https://rec.example/1"
    )
    reference = make_case()
    with app.app_context():
        case = case_by_reference(reference)
        task = Task(
            key=f"voicemail:contact:{contact_id}",
            kind="voicemail",
            case_id=case.id,
            contact_id=contact_id,
        )
        db.session.add(task)
        db.session.commit()
        task_id = task.id
    client = english(signed_in("operator"))
    tasks = _section(client.get(f"/cases/{reference}").get_data(as_text=True), "h-tasks")
    assert f'<audio controls preload="none" src="/operator/tasks/{task_id}/recording"' in tasks
    assert f'action="/operator/tasks/{task_id}/done"' in tasks
    assert f'name="next" value="/cases/{reference}"' in tasks
    response = post_form(
        client,
        f"/operator/tasks/{task_id}/done",
        {"outcome": "reached", "note": "called back", "next": f"/cases/{reference}"},
    )
    assert response.headers["Location"].endswith(f"/cases/{reference}")
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert "called back" in _section(page, "h-timeline")
    with app.app_context():
        assert db.session.get(Task, task_id).outcome == "reached"
