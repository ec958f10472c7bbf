"""``/dev/phone`` plays a Zalo user: a signed event through the real webhook, the reply
the worker sends (to the development outbox without a Zalo API) shown on the phone."""

from __future__ import annotations

from sqlalchemy import select

from hotline.phones import public_phone
from models import Case, Contact, DevOutboxMessage, Referral, db
from tests.conftest import config
from tests.webclient import csrf_of


def test_dev_phone_round_trip_as_a_zalo_user(app, zalo, directory):
    dev = app.test_client()
    dev.get("/dev/phone")
    response = dev.post(
        "/dev/phone/zalo",
        data={
            "zalo_user": "8400000000000000123",
            "text": "em ở Tiên Yên",
            "csrf_token": csrf_of(dev),
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    db.session.remove()
    point = db.session.scalars(select(Referral)).one().service_point
    assert "(Zalo)" in page and public_phone(point.phone) in page
    case = db.session.scalars(select(Case)).one()
    assert db.session.get(Contact, case.contact_id).channel == "zalo"
    sent = db.session.scalars(select(DevOutboxMessage)).all()
    assert [m.to for m in sent if m.to.startswith("zalo:")] == ["zalo:8400000000000000123"]


def test_dev_phone_says_what_is_missing_without_the_oa_secret(app, directory):
    dev = app.test_client()
    dev.get("/dev/phone")
    with config(app, ZALO_OA_SECRET_KEY=None):
        page = dev.post(
            "/dev/phone/zalo",
            data={"text": "xin chào", "csrf_token": csrf_of(dev)},
            follow_redirects=True,
        ).get_data(as_text=True)
    assert "ZALO_OA_SECRET_KEY" in page
