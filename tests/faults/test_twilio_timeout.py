"""Twilio's API does not answer within the client's timeout, then recovers: the alert goes
out exactly once, whether or not Twilio had accepted the request that timed out."""

from __future__ import annotations

import time

import pytest

from models import Alert, OutboundSms, db
from tests.conftest import wait_for
from tests.factories import ALERT_CASE, new_case

#: The worker's client gives up after 1 s; the fake answers the first request after 2 s.
#: The retry comes 4 s later, well after the fake accepted (or refused) that request.
WORKER = {"TWILIO_TIMEOUT_SECONDS": "1", "SMS_RETRY_INTERVALS": "4,4,4,4"}


@pytest.mark.parametrize("accepted", [True, False], ids=["accepted-late", "never-accepted"])
def test_twilio_timeout_then_recovery_sends_one_alert(
    accepted, directory, fake_twilio, start_worker
):
    fake_twilio.delay, fake_twilio.delay_posts = 2.0, 1  # only the first request hangs
    if not accepted:
        fake_twilio.fail_next(500, 20500)  # …and Twilio did not keep it either
    reference = new_case(base=ALERT_CASE).reference

    worker = start_worker(**WORKER)
    try:
        wait_for(lambda: db.session.scalar(db.select(Alert.status)) == "sent", timeout=45)
    except AssertionError:
        raise AssertionError(worker.log.read_text(errors="replace")[-4000:]) from None
    time.sleep(2)  # and nothing more goes out

    posts = [r for r in fake_twilio.requests if r.method == "POST"]
    assert len(fake_twilio.messages) == 1
    assert reference in fake_twilio.messages[0].form["Body"]
    # The retry asked Twilio first (the outcome of the timed-out request was unknown).
    assert any(r.method == "GET" for r in fake_twilio.requests)
    if accepted:
        assert len(posts) == 1  # found at Twilio and adopted: not sent again
    else:
        assert len(posts) == 2  # not found at Twilio: sent again, once
    db.session.remove()
    alert = db.session.scalars(db.select(Alert)).one()
    assert alert.provider_sid == fake_twilio.messages[0].sid and alert.sent_at is not None
    row = db.session.scalars(db.select(OutboundSms)).one()
    assert (row.status, row.provider_sid) == ("sent", alert.provider_sid)
