"""The operator board (DESIGN.md section 11): open tasks with their player and a form to
close them, SMS conversations kept in view while they have unseen messages, status words
in the reader's language, and a page whose every static file exists."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from hotline.tasks import open_task
from models import Alert, AuditEvent, Contact, Task, db
from models.types import utcnow
from tests.webclient import ROLE_USERS, case_by_reference, post_form
from tests.webhooks import CALLER

BOARD = "/operator/"
LIVE = "/operator/board/live"
PROVIDER_URL = "https://api.twilio.com/2010-04-01/Accounts/AC{}/Recordings/RE{}"
#: Codes that must never reach the page as the status word itself.
RAW_STATUSES = {
    "open",
    "routed",
    "closed",
    "ringing",
    "in-progress",
    "in_progress",
    "answered",
    "completed",
    "voicemail",
    "pending",
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
}
MASKED_CALLER = "••• " + CALLER[-3:]


def section(page: str, name: str) -> str:
    """One section of the board (``calls``, ``sms``, ``tasks``, ``alerts``)."""
    match = re.search(
        rf'<section aria-labelledby="h-{name}">(.*?)</section>', page, flags=re.DOTALL
    )
    assert match is not None, f"no {name} section"
    return match.group(1)


def statuses(page: str) -> list[str]:
    return [s.strip() for s in re.findall(r'<span class="status">([^<]*)</span>', page)]


def audit(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def path_of(location: str) -> str:
    parts = urlsplit(location)
    assert parts.netloc in {"", "localhost"}, location
    return parts.path


@pytest.fixture
def voicemail_task(app, make_contact):
    """A voicemail (a call that ended in the recording) and its task, as the voice flow
    leaves them; returns ``(task_id, contact_id, provider_url)``."""
    url = PROVIDER_URL.format("0" * 32, "7" * 32)
    contact_id = make_contact(
        "voice",
        number="+84900555321",
        body=None,
        status="voicemail",
        recording_url=url,
        ended_at=utcnow(),
    )
    with app.app_context():
        task = open_task("voicemail", f"contact:{contact_id}", contact_id=contact_id)
        db.session.commit()
        return task.id, contact_id, url


def test_a_voicemail_task_has_a_local_player_and_no_provider_url(signed_in, voicemail_task):
    task_id, contact_id, url = voicemail_task
    operator = signed_in("operator")
    for page in (
        operator.get(BOARD).get_data(as_text=True),
        operator.get(LIVE).get_data(as_text=True),
    ):
        tasks = section(page, "tasks")
        player = re.search(r"<audio ([^>]*)>", tasks)
        assert player is not None
        assert f'src="/operator/tasks/{task_id}/recording"' in player.group(1)
        assert 'preload="none"' in player.group(1) and "controls" in player.group(1)
        assert url not in page and "api.twilio.com" not in page
        assert "••• 321" in tasks and "900555321" not in page
        # No case yet: the operator can open the intake from the task.
        assert f'href="/intake/new?contact={contact_id}"' in tasks
        assert f'action="/operator/tasks/{task_id}/done"' in tasks
        assert re.findall(r'name="outcome" value="([a-z_]+)"', tasks) == [
            "reached",
            "no_answer",
            "unsafe",
            "not_needed",
        ]


def test_the_board_player_plays_the_recording_through_the_server(
    signed_in, app, make_contact, fake_twilio
):
    url = fake_twilio.add_recording("RE" + "8" * 32)
    contact_id = make_contact("voice", body=None, recording_url=url, ended_at=utcnow())
    with app.app_context():
        task_id = open_task("voicemail", f"contact:{contact_id}", contact_id=contact_id).id
        db.session.commit()
    operator = signed_in("operator")
    page = operator.get(LIVE).get_data(as_text=True)
    src = re.search(r'<audio [^>]*src="([^"]+)"', page).group(1)
    assert fake_twilio.url not in page
    response = operator.get(src)
    assert response.status_code == 200
    assert response.content_type.startswith("audio/")
    (play,) = audit(app, "recording.play")
    assert play.object_id == str(task_id)
    assert signed_in("social_worker").get(src).status_code == 403


def test_closing_a_task_records_the_outcome_and_takes_it_off_the_board(
    signed_in, app, voicemail_task
):
    task_id, _contact_id, _url = voicemail_task
    operator = signed_in("operator")
    response = post_form(
        operator,
        f"/operator/tasks/{task_id}/done",
        {"outcome": "reached", "note": "  Called back, she is safe  ", "next": BOARD},
    )
    assert response.status_code == 302
    assert path_of(response.headers["Location"]) == BOARD
    page = operator.get(BOARD + "?lang=en").get_data(as_text=True)
    assert "Đã đóng việc." in page  # flashed in the language of the request that closed it
    assert f"/operator/tasks/{task_id}/" not in page
    assert "Nothing waiting." in section(page, "tasks")
    with app.app_context():
        task = db.session.get(Task, task_id)
        assert (task.status, task.outcome, task.note) == (
            "done",
            "reached",
            "Called back, she is safe",
        )
        assert task.done_at is not None and task.done_by_id is not None
    (event,) = audit(app, "task.done")
    assert event.object_type == "task" and event.object_id == str(task_id)
    assert event.actor_label == ROLE_USERS["operator"]
    assert event.details == {"kind": "voicemail", "outcome": "reached"}


def test_closing_twice_is_an_error_and_changes_nothing(signed_in, app, voicemail_task):
    task_id, _contact_id, _url = voicemail_task
    first = signed_in("operator")
    second = signed_in("operator")
    second.get(BOARD + "?lang=en")
    assert (
        post_form(first, f"/operator/tasks/{task_id}/done", {"outcome": "unsafe"}).status_code
        == 302
    )
    with app.app_context():
        before = db.session.get(Task, task_id)
        closed = (before.status, before.outcome, before.done_at, before.done_by_id)
    response = post_form(
        second,
        f"/operator/tasks/{task_id}/done",
        {"outcome": "reached", "note": "again"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "This task was already closed." in page
    assert 'class="flash error"' in page
    with app.app_context():
        after = db.session.get(Task, task_id)
        assert (after.status, after.outcome, after.done_at, after.done_by_id) == closed
        assert after.note is None
    assert len(audit(app, "task.done")) == 1


@pytest.mark.parametrize("outcome", ["", "maybe", "REACHED"])
def test_a_bad_outcome_is_an_error_and_the_task_stays_open(
    signed_in, app, voicemail_task, outcome
):
    task_id, _contact_id, _url = voicemail_task
    operator = signed_in("operator")
    operator.get(BOARD + "?lang=en")
    data = {"outcome": outcome} if outcome else {}
    response = post_form(operator, f"/operator/tasks/{task_id}/done", data, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert 'class="flash error"' in page
    assert "Choose what happened" in page
    assert f'action="/operator/tasks/{task_id}/done"' in section(page, "tasks")
    with app.app_context():
        task = db.session.get(Task, task_id)
        assert (task.status, task.outcome, task.done_at) == ("open", None, None)
    assert audit(app, "task.done") == []


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "javascript:alert(1)",
        "/operator/\r\nSet-Cookie: x=1",
    ],
)
def test_next_off_site_goes_back_to_the_board(signed_in, voicemail_task, target):
    task_id, _contact_id, _url = voicemail_task
    response = post_form(
        signed_in("operator"),
        f"/operator/tasks/{task_id}/done",
        {"outcome": "not_needed", "next": target},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location and "javascript" not in location
    assert path_of(location) == BOARD


def test_next_on_site_is_followed(signed_in, make_case, app, voicemail_task):
    task_id, _contact_id, _url = voicemail_task
    reference = make_case()
    response = post_form(
        signed_in("operator"),
        f"/operator/tasks/{task_id}/done",
        {"outcome": "no_answer", "next": f"/cases/{reference}"},
    )
    assert path_of(response.headers["Location"]) == f"/cases/{reference}"


def test_tasks_show_their_kind_case_and_age_order(signed_in, app, make_case, make_contact):
    reference = make_case()
    callback_contact = make_contact("voice", number="+84900555654", body=None, ended_at=utcnow())
    with app.app_context():
        case = case_by_reference(reference)
        first = open_task("referral_declined", f"case:{case.id}", case_id=case.id)
        db.session.flush()
        second = open_task("callback", f"contact:{callback_contact}", contact_id=callback_contact)
        db.session.commit()
        first_id, second_id = first.id, second.id
    page = signed_in("operator").get(LIVE + "?lang=en").get_data(as_text=True)
    tasks = section(page, "tasks")
    assert tasks.index(f'id="task-{first_id}"') < tasks.index(f'id="task-{second_id}"')
    declined = tasks[tasks.index(f'id="task-{first_id}"') : tasks.index(f'id="task-{second_id}"')]
    assert "No service point accepted the case" in declined
    assert f'href="/cases/{reference}"' in declined
    assert "/intake/new" not in declined  # it has its case
    assert "<audio" not in tasks  # neither is a voicemail
    callback = tasks[tasks.index(f'id="task-{second_id}"') :]
    assert "Callback request" in callback and "••• 654" in callback
    assert f'href="/intake/new?contact={callback_contact}"' in callback
    for word in ("Reached", "No answer", "Not safe to talk", "Not needed"):
        assert word in callback


# --- SMS conversations ---------------------------------------------------------------------


def _sms_on_board(client) -> str:
    return section(client.get(LIVE + "?lang=en").get_data(as_text=True), "sms")


def _contact_of(app, reference: str) -> int:
    with app.app_context():
        return case_by_reference(reference).contact_id


def test_a_routed_sms_stays_until_read_and_comes_back_with_a_new_message(signed_in, app, twilio):
    operator = signed_in("operator")
    assert twilio.sms("Cứu em với, em đang ở xã Tiên Yên", "SM" + "1" * 32).status_code == 200
    with app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.channel == "sms"))
        assert contact.status == "routed"
        contact_id = contact.id
        reference = db.session.scalar(select(Alert).limit(1)).referral.case.reference
    assert _contact_of(app, reference) == contact_id

    sms = _sms_on_board(operator)
    assert MASKED_CALLER in sms
    assert f'href="/cases/{reference}"' in sms
    assert '<span class="badge new">1 new</span>' in sms
    assert f'action="/operator/contacts/{contact_id}/seen"' in sms
    assert "/intake/new" not in sms  # it has its case

    response = post_form(operator, f"/operator/contacts/{contact_id}/seen")
    assert response.status_code == 302
    assert path_of(response.headers["Location"]) == BOARD
    sms = _sms_on_board(operator)
    assert MASKED_CALLER not in sms and reference not in sms
    (event,) = audit(app, "contact.seen")
    assert (event.object_type, event.object_id) == ("contact", str(contact_id))
    assert event.actor_label == ROLE_USERS["operator"]
    with app.app_context():
        last_in = max(
            m.id for m in db.session.get(Contact, contact_id).messages if m.direction == "in"
        )
        assert db.session.get(Contact, contact_id).seen_message_id == last_in

    assert twilio.sms("Cảm ơn chị", "SM" + "2" * 32).status_code == 200
    assert twilio.sms("Em vẫn ở đây", "SM" + "3" * 32).status_code == 200
    sms = _sms_on_board(operator)
    assert MASKED_CALLER in sms and f'href="/cases/{reference}"' in sms
    assert '<span class="badge new">2 new</span>' in sms
    assert "Em vẫn ở đây" in sms


def test_opening_the_case_page_marks_the_conversation_seen(signed_in, app, twilio):
    operator = signed_in("operator")
    twilio.sms("Cứu em với, em đang ở xã Tiên Yên", "SM" + "4" * 32)
    with app.app_context():
        reference = db.session.scalar(select(Alert).limit(1)).referral.case.reference
    assert MASKED_CALLER in _sms_on_board(operator)
    assert operator.get(f"/cases/{reference}").status_code == 200
    assert MASKED_CALLER not in _sms_on_board(operator)


def test_an_intake_from_the_conversation_leads_to_the_case_and_off_the_board(
    signed_in, make_contact
):
    from tests.web.test_screens import INTAKE

    contact_id = make_contact("sms", number="+84900555123")
    operator = signed_in("operator")
    assert "••• 123" in _sms_on_board(operator)
    response = post_form(
        operator,
        f"/intake/new?contact={contact_id}",
        INTAKE | {"action": "save"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert response.request.path.startswith("/cases/")  # the browser lands on the case
    assert "••• 123" not in _sms_on_board(operator)


def test_an_sms_without_a_case_stays_after_mark_as_read_without_the_badge(
    signed_in, app, make_contact
):
    contact_id = make_contact("sms", number="+84900555123", body="Tôi cần giúp đỡ")
    operator = signed_in("operator")
    sms = _sms_on_board(operator)
    assert "1 new" in sms and "Open intake" in sms
    post_form(operator, f"/operator/contacts/{contact_id}/seen")
    sms = _sms_on_board(operator)
    assert "••• 123" in sms and "Open intake" in sms
    assert 'class="badge new"' not in sms
    assert f"/operator/contacts/{contact_id}/seen" not in sms


def test_mark_as_read_never_moves_backwards(signed_in, app, make_contact):
    contact_id = make_contact("sms", body="một")
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        contact.seen_message_id = 10**6  # e.g. set by the case page meanwhile
        db.session.commit()
    post_form(signed_in("operator"), f"/operator/contacts/{contact_id}/seen")
    with app.app_context():
        assert db.session.get(Contact, contact_id).seen_message_id == 10**6


@pytest.mark.parametrize("role", ["social_worker", "manager", "admin"])
def test_only_operators_mark_as_read(signed_in, app, make_contact, role):
    contact_id = make_contact("sms")
    response = post_form(signed_in(role), f"/operator/contacts/{contact_id}/seen")
    assert response.status_code == 403
    task_response = post_form(signed_in(role), "/operator/tasks/1/done", {"outcome": "reached"})
    assert task_response.status_code == 403
    with app.app_context():
        assert db.session.get(Contact, contact_id).seen_message_id is None
    assert audit(app, "contact.seen") == []


def test_signed_out_mark_as_read_goes_to_the_login(app, demo, make_contact):
    contact_id = make_contact("sms")
    response = post_form(app.test_client(), f"/operator/contacts/{contact_id}/seen")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_mark_as_read_and_closing_need_the_csrf_token(
    signed_in, app, make_contact, voicemail_task
):
    task_id, _contact_id, _url = voicemail_task
    contact_id = make_contact("sms")
    operator = signed_in("operator")
    assert operator.post(f"/operator/contacts/{contact_id}/seen").status_code == 400
    assert (
        operator.post(f"/operator/tasks/{task_id}/done", data={"outcome": "reached"}).status_code
        == 400
    )
    with app.app_context():
        assert db.session.get(Contact, contact_id).seen_message_id is None
        assert db.session.get(Task, task_id).status == "open"
    assert post_form(operator, "/operator/contacts/99999999/seen").status_code == 404
    assert post_form(operator, f"/operator/contacts/{2**40}/seen").status_code == 404


# --- status words --------------------------------------------------------------------------


def _alert_sent(app, reference: str) -> None:
    with app.app_context():
        case = case_by_reference(reference)
        for alert in db.session.scalars(select(Alert)):
            if alert.referral.case_id == case.id:
                alert.status = "sent"
        db.session.commit()


def test_status_words_are_labels_not_codes(signed_in, app, make_case, make_contact):
    reference = make_case()
    _alert_sent(app, reference)
    make_contact("sms", number="+84900555123")
    make_contact("voice", number="+84900555456", body=None, status="ringing")
    operator = signed_in("operator")

    english = operator.get(LIVE + "?lang=en").get_data(as_text=True)
    assert statuses(section(english, "alerts")) == ["Sent"]
    assert statuses(section(english, "sms")) == ["Open"]
    assert statuses(section(english, "calls")) == ["Ringing"]

    vietnamese = operator.get(LIVE + "?lang=vi").get_data(as_text=True)
    shown = statuses(vietnamese)
    assert len(shown) == 3
    # The new words are not in the compiled catalog yet (their English shows until then),
    # but never the code itself.
    assert not RAW_STATUSES & set(shown), shown
    assert statuses(section(vietnamese, "alerts")) == ["Đã gửi"]  # in the catalog already


def test_an_unknown_status_shows_its_code_and_never_fails_the_page(
    signed_in, app, make_case, make_contact
):
    reference = make_case()
    with app.app_context():
        db.session.execute(db.update(Alert).values(status="weird-new"))
        db.session.commit()
    make_contact("voice", body=None, status="provider-new")
    page = signed_in("operator").get(LIVE).get_data(as_text=True)
    assert reference in page
    assert "weird-new" in statuses(section(page, "alerts"))
    assert "provider-new" in statuses(section(page, "calls"))


def test_label_falls_back_to_the_code(app):
    from hotline.labels import label

    with app.test_request_context("/?lang=en"):
        assert label("sent", "delivery_status") == "Sent"
        assert label("no-answer", "contact_status") == "No answer"
        assert label("sms_unrouted", "task_kind") == "SMS without a place"
        assert label("unsafe", "task_outcome") == "Not safe to talk"
        assert label("something-new", "delivery_status") == "something-new"
        assert label("open", "no-such-group") == "open"
        assert label(None, "contact_status") == "—"


# --- the page's files ----------------------------------------------------------------------


def test_every_static_file_the_board_uses_exists(signed_in, app):
    operator = signed_in("operator")
    page = operator.get(BOARD).get_data(as_text=True)
    paths = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', page))
    names = {urlsplit(p).path.rsplit("/", 1)[-1] for p in paths}
    assert {"app.css", "app.js", "favicon.svg"} <= names
    for path in sorted(paths):
        response = operator.get(path)
        assert response.status_code == 200, path
        response.close()
    icon = app.test_client().get("/favicon.ico")
    assert icon.status_code in (301, 308)
    target = path_of(icon.headers["Location"])
    assert target.startswith("/static/")
    response = app.test_client().get(target)
    assert response.status_code == 200
    assert response.content_type.startswith("image/svg+xml")
    response.close()


# --- the live refresh (app.js) -------------------------------------------------------------

NODE = shutil.which("node")
APP_JS = Path(__file__).resolve().parents[2] / "hotline" / "static" / "app.js"

#: A minimal DOM for app.js: one live region with a form (a radio, a text field) and an
#: audio element; each case sets the operator's state, runs one poll and reports whether
#: the region was replaced.
HARNESS = r"""
const vm = require("vm");
const fs = require("fs");
const source = fs.readFileSync(process.argv[2], "utf8");

function run(state) {
  const timers = [];
  const radio = { type: "radio", checked: false, defaultChecked: false };
  const note = { type: "text", value: "", defaultValue: "" };
  const hidden = { type: "hidden", value: "tok", defaultValue: "tok" };
  const form = { elements: [hidden, radio, note] };
  const audio = { paused: true, ended: false };
  const inForm = { closest: (s) => (s === "form" ? form : null) };
  const status = { textContent: "" };
  const attrs = {
    "data-poll-url": "/operator/board/live", "data-poll-seconds": "5",
    "data-poll-status": "board-status", "data-text-updated": "Updated",
    "data-text-held": "Held", "data-text-offline": "Offline",
  };
  const el = {
    innerHTML: "<old>",
    getAttribute: (n) => (n in attrs ? attrs[n] : null),
    contains: (node) => node === inForm || node === el,
    querySelectorAll: (s) => (s === "form" ? [form] : s === "audio, video" ? [audio] : []),
  };
  const document = {
    activeElement: null,
    listeners: {},
    addEventListener: (n, f) => { document.listeners[n] = f; },
    querySelector: () => null,
    getElementById: (id) => (id === "board-status" ? status : null),
    querySelectorAll: (s) => (s === "[data-poll]" ? [el] : []),
  };
  if (state === "focus") { document.activeElement = inForm; }
  if (state === "radio") { radio.checked = true; }
  if (state === "typed") { note.value = "she asked us to call at 5"; }
  if (state === "playing") { audio.paused = false; }
  if (state === "paused") { audio.paused = true; }
  const response = { status: 200, ok: true, text: () => Promise.resolve("<new>") };
  const sandbox = {
    document, window: { confirm: () => true },
    fetch: () => Promise.resolve(response),
    setTimeout: (f) => { timers.push(f); return timers.length; },
    clearTimeout: () => {},
    Event: function () {}, FormData: function () {},
  };
  vm.runInNewContext(source, sandbox);
  document.listeners.DOMContentLoaded();
  timers.shift()();  // the first poll
  return new Promise((resolve) => setImmediate(() => resolve({
    replaced: el.innerHTML === "<new>", said: status.textContent, again: timers.length === 1,
  })));
}

(async () => {
  const out = {};
  for (const state of ["idle", "focus", "radio", "typed", "playing", "paused"]) {
    out[state] = await run(state);
  }
  console.log(JSON.stringify(out));
})();
"""


@pytest.mark.skipif(NODE is None, reason="needs Node.js to run app.js")
def test_the_live_refresh_waits_while_the_operator_is_busy(tmp_path):
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS)
    result = subprocess.run(
        [NODE, str(harness), str(APP_JS)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["idle"]["replaced"] is True
    assert out["idle"]["said"].startswith("Updated")
    assert out["paused"]["replaced"] is True
    for state in ("focus", "radio", "typed", "playing"):
        assert out[state]["replaced"] is False, state
        assert out[state]["said"] == "Held", state
    # Every poll schedules the next, held or not.
    assert all(out[s]["again"] for s in ("idle", "focus", "radio", "typed", "playing", "paused"))
