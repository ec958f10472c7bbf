"""Personal values planted across a whole flow never reach a log line, an alert SMS, a
statistics report or an error page.

One SMS conversation (place resolved, case, alert queued), one API case with notes and a
safe-contact phone, a real worker process sending the alerts to the fake Twilio API, a
report payload, and error pages (404 and 500). Everything the app logs in-process is
formatted exactly as production formats it (:class:`hotline.logs.SafeFormatter`); the
worker's own stdout and stderr are read as they are.
"""

from __future__ import annotations

import json
import logging

import pytest

from hotline.logs import FORMAT, SafeFormatter
from hotline.reporting.payload import json_payload
from hotline.stats.periods import month
from hotline.stats.report import build_report
from models import Alert, Case, OutboxItem, db
from models.types import utcnow
from tests.factories import case_body
from tests.webhooks import Twilio, reply_text

pytestmark = pytest.mark.slow

CALLER = "+84900111987"
SAFE_PHONE = "0900 777 456"
NAME = "Hoàng Thị Canary"
NOTES = f"canary-notes: {NAME} bị chồng đánh, nhà số 17 ngõ Canary"
SMS_TEXT = "canary-sms-Chị-ơi-cứu-em"
#: Every spelling a leak could take.
CANARIES = [
    CALLER,
    CALLER.removeprefix("+84"),
    "0" + CALLER.removeprefix("+84"),
    "+84900777456",
    "900777456",
    "0900777456",
    SAFE_PHONE,
    NAME,
    "Canary",
    "canary",
    "bị chồng đánh",
    "Chị-ơi-cứu-em",
]


def leaks(text: str) -> list[str]:
    return [c for c in CANARIES if c.lower() in text.lower()]


def test_canaries_never_leave_the_encrypted_columns(
    app, demo, fake_twilio, public_base, token_for, signed_in, run_burst, caplog
):
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    twilio = Twilio(app, client)
    outputs: dict[str, str] = {}

    with app.app_context():
        # 1. An SMS conversation: a cry for help, then the place; a case and an alert.
        first = twilio.sms(f"{SMS_TEXT}, em là {NAME}", "SM" + "c" * 32, sender=CALLER)
        second = twilio.sms("em đang ở xã Tiên Yên", "SM" + "d" * 32, sender=CALLER)
        outputs["sms replies"] = reply_text(first) + reply_text(second)
        sms_reference = db.session.scalars(db.select(Case.reference)).one()

        # 2. An API case with notes and a safe-contact phone.
        body = case_body(
            notes=NOTES,
            safe_contact={"channel": "sms", "phone": SAFE_PHONE, "hours": "09:00-11:00"},
            perpetrator={"relationship": "husband", "sex": "male"},
        )
        created = client.post("/api/v1/cases", json=body, headers=token_for("operator"))
        assert created.status_code == 201, created.get_data(as_text=True)
        outputs["api answer"] = created.get_data(as_text=True)
        reference = created.get_json()["reference"]
        assert db.session.scalar(db.select(db.func.count()).select_from(Alert)) >= 2
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxItem)) >= 2
        db.session.remove()

    # 3. The worker sends the alerts through the fake Twilio API.
    outputs["worker output"] = "".join(
        result.stdout + result.stderr for result in (run_burst(), run_burst())
    )
    with app.app_context():
        bodies = [m.form.get("Body", "") for m in fake_twilio.messages]
        assert any(sms_reference in b for b in bodies), bodies
        assert any(reference in b for b in bodies), bodies
        assert all(m.form.get("To") != CALLER for m in fake_twilio.messages)
        outputs["alert SMS"] = "\n".join(bodies)

        # 4. The statistics report for this month (and the next: local time is UTC+7).
        now = utcnow()
        for period in {month(now.year, now.month), month(now.year, now.month % 12 + 1)}:
            payload = json_payload(build_report(period), now)
            outputs[f"report {period.code}"] = json.dumps(payload, ensure_ascii=False)

    # 5. Error pages: a 404 whose URL carries the values, and a 500 raised with them.
    operator = signed_in("operator")
    for path in (
        f"/cases/{CALLER}",
        f"/no-such-page/{NAME}?phone={SAFE_PHONE}",
        f"/api/v1/cases/{NAME}?phone={SAFE_PHONE}",
    ):
        response = operator.get(path, headers=token_for("operator"))
        assert response.status_code == 404, (path, response.status_code)
        outputs[f"error page {path}"] = response.get_data(as_text=True)
    with app.test_request_context(f"/cases?q={NOTES}", headers={"Accept": "text/html"}):
        error = RuntimeError(f"{NOTES} {CALLER} {SAFE_PHONE}")
        handler = app._find_error_handler(error, [])  # the app's own 500 handler
        rendered = app.make_response(handler(error))
        assert rendered.status_code == 500
        outputs["500 page"] = rendered.get_data(as_text=True)

    formatter = SafeFormatter(FORMAT)
    outputs["in-process logs"] = "\n".join(formatter.format(r) for r in caplog.records)
    assert outputs["in-process logs"]  # the flow did log (the check is not vacuous)

    found = {where: leaks(text) for where, text in outputs.items() if leaks(text)}
    assert found == {}
