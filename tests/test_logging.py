"""Logs and error pages never carry personal data, even when code fails."""

from __future__ import annotations

import logging

from flask import Blueprint

from hotline.logs import SafeFormatter

CANARY_PHONE = "+84900999111"
CANARY_NOTE = "canary-note-Nguyễn-Thị-Canary"


def test_formatter_prints_frames_but_not_the_exception_message():
    try:
        raise ValueError(f"cannot store {CANARY_PHONE} {CANARY_NOTE}")
    except ValueError as exc:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed", None, (ValueError, exc, exc.__traceback__)
        )
    text = SafeFormatter().format(record)
    assert "ValueError" in text
    assert "test_formatter_prints_frames" in text
    assert CANARY_PHONE not in text and CANARY_NOTE not in text


def test_unhandled_error_page_and_log_hold_no_request_values(service_env, caplog):
    from hotline import create_app
    from tests.webclient import csrf_of

    app = create_app()
    bp = Blueprint("boom", __name__)

    @bp.post("/boom")
    def boom():
        from flask import request

        raise RuntimeError(f"failed for {request.form['From']} {request.form['Body']}")

    app.register_blueprint(bp)
    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        response = client.post(
            "/boom",
            data={"From": CANARY_PHONE, "Body": CANARY_NOTE, "csrf_token": csrf_of(client)},
        )
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert CANARY_PHONE not in page and CANARY_NOTE not in page
    formatter = SafeFormatter()
    logged = "\n".join(formatter.format(r) for r in caplog.records)
    assert "RuntimeError" in logged
    assert CANARY_PHONE not in logged and CANARY_NOTE not in logged
