"""Sending through the OA API (the fake over loopback HTTP): replies from the worker, the
token pair kept encrypted and refreshed exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select, text, update

from hotline.phones import public_phone
from hotline.telephony import SendError
from hotline.telephony.zalo import api, tokens
from models import Message, OutboundSms, Referral, ZaloToken, db
from models.types import utcnow
from tests.zalo.conftest import USER


def _raw_tokens() -> str:
    db.session.remove()
    row = db.session.execute(text("SELECT access_token, refresh_token FROM zalo_token")).one()
    return " ".join(str(v) for v in row)


def test_the_reply_naming_the_routed_point_goes_through_the_oa_api(
    fake_zalo, zalo, directory, run_burst, zalo_env
):
    zalo.text("Cứu em với, em đang ở xã Tiên Yên", "m-route")
    run_burst(**zalo_env)
    point = db.session.scalars(select(Referral)).one().service_point
    (sent,) = fake_zalo.messages
    assert sent.user_id == USER and sent.token == "AT-seed"
    assert "113" in sent.text and public_phone(point.phone) in sent.text
    assert (point.sms_name or point.name) in sent.text
    db.session.remove()
    reply = db.session.scalars(select(Message).where(Message.direction == "out")).one()
    assert (reply.status, reply.provider_sid) == ("sent", sent.message_id)
    # A second worker run sends nothing more.
    run_burst(**zalo_env)
    assert len(fake_zalo.requests) == 1


def test_an_expired_token_is_refreshed_once_and_kept_encrypted(
    fake_zalo, zalo, directory, run_burst, zalo_env
):
    fake_zalo.expire()
    zalo.text("em ở Bãi Cháy", "m-expired")
    run_burst(**zalo_env)
    assert fake_zalo.refreshes == [("RT-seed", True)]
    assert [r.message_id is not None for r in fake_zalo.requests] == [False, True]
    assert fake_zalo.messages[0].token == fake_zalo.access_token
    row = db.session.get(ZaloToken, 1)
    assert row.version == 1 and row.access_token == fake_zalo.access_token
    assert row.refresh_token == fake_zalo.refresh_token
    assert row.expires_at > utcnow() + timedelta(hours=24)
    raw = _raw_tokens()
    assert fake_zalo.access_token not in raw and fake_zalo.refresh_token not in raw


def test_concurrent_sends_with_an_expired_token_refresh_exactly_once(fake_zalo, app):
    with app.app_context():
        tokens.current()  # seeded
    fake_zalo.expire()
    fake_zalo.refresh_delay = 0.3  # every sender sees -216 before the refresh ends
    results: list[object] = []
    start = threading.Barrier(6)

    def send(n: int) -> None:
        with app.app_context():
            start.wait()
            try:
                results.append(api.send_message(f"{USER[:-1]}{n}", "Xin chào"))
            except Exception as exc:
                results.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(not isinstance(r, Exception) for r in results), results
    assert len(results) == 6 and len(fake_zalo.messages) == 6
    assert fake_zalo.refreshes == [("RT-seed", True)]
    with app.app_context():
        assert db.session.get(ZaloToken, 1).version == 1


def test_a_token_about_to_expire_is_refreshed_before_use(fake_zalo, ctx):
    tokens.current()
    db.session.execute(update(ZaloToken).values(expires_at=utcnow() + timedelta(minutes=2)))
    db.session.commit()
    api.send_message(USER, "Xin chào")
    assert fake_zalo.accepted_refreshes == 1
    assert [r.token for r in fake_zalo.requests] == [fake_zalo.access_token]


def test_the_refresh_is_retried_when_the_oauth_server_fails(fake_zalo, ctx):
    fake_zalo.expire()
    fake_zalo.refresh_outages = 2
    api.send_message(USER, "Xin chào")
    assert [ok for _t, ok in fake_zalo.refreshes] == [False, False, True]
    assert len(fake_zalo.messages) == 1


def test_a_refused_refresh_is_a_temporary_error_and_leaves_the_pair(fake_zalo, ctx):
    tokens.current()
    fake_zalo.expire()
    fake_zalo.refresh_token = "RT-revoked-at-zalo"
    try:
        api.send_message(USER, "Xin chào")
    except SendError as exc:
        assert not exc.permanent and exc.code == "zalo-refresh-refused"
    else:
        raise AssertionError("a refused refresh must fail the send")
    db.session.remove()
    row = db.session.get(ZaloToken, 1)
    assert (row.version, row.refresh_token, row.refreshing_until) == (0, "RT-seed", None)


def test_a_permanent_zalo_error_fails_the_reply_without_retrying(
    fake_zalo, zalo, directory, run_burst, zalo_env
):
    fake_zalo.fail_next(-213)  # the user does not follow the OA
    zalo.text("em ở Bãi Cháy", "m-perm")
    run_burst(**zalo_env)
    assert len(fake_zalo.requests) == 1
    row = db.session.scalars(select(OutboundSms).where(OutboundSms.purpose == "reply")).one()
    assert (row.status, row.error_code) == ("failed", "zalo-213")


def test_a_zalo_outage_is_retried_and_sent_once(fake_zalo, zalo, directory, run_burst, zalo_env):
    fake_zalo.fail_next(503)
    zalo.text("em ở Bãi Cháy", "m-503")
    run_burst(**zalo_env)
    assert len(fake_zalo.messages) == 1 and len(fake_zalo.requests) == 2
