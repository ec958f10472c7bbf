"""CSRF (Flask-WTF's CSRFProtect): every browser form needs the session's token, login and
logout included; the bearer-token API and the provider-signed webhooks need none."""

from __future__ import annotations

import json
import time

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from hotline.telephony.gateway import sign as gateway_sign
from hotline.telephony.twilio.signature import sign as twilio_sign
from models import Contact, InboundJournal, db
from tests.factories import case_body
from tests.webclient import ROLE_USERS, csrf_of, password_for, post_form
from tests.webhooks import drain_journal

EXPIRED_VI = "Biểu mẫu đã hết hạn. Vui lòng thử lại."  # "The form had expired. …"
HTTPS = "https://hotline.test"


def _legal_hold(app) -> bool:
    with app.app_context():
        return bool(db.session.scalar(db.text("SELECT legal_hold FROM hotline_case")))


def _signed_long_ago(app, raw: str, seconds: int) -> str:
    class LongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token", signer=LongAgo).dumps(raw)


def test_a_form_without_the_token_is_refused_with_the_error_page(signed_in, make_case, app):
    reference = make_case()
    client = signed_in("operator")
    response = client.post(f"/cases/{reference}/legal-hold", data={"hold": "yes"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert EXPIRED_VI in page and "Không xử lý được yêu cầu." in page
    assert "/logout" in page  # the page still knows who is signed in
    assert reference not in page
    assert not _legal_hold(app)


def test_a_wrong_token_is_refused_and_changes_nothing(signed_in, make_case, app):
    reference = make_case()
    client = signed_in("operator")
    other = signed_in("operator")  # a valid token, but of another session
    forged = URLSafeTimedSerializer("not-our-key", salt="wtf-csrf-token").dumps("x" * 40)
    for token in ("forged", forged, csrf_of(other)):
        response = client.post(
            f"/cases/{reference}/legal-hold", data={"hold": "yes", "csrf_token": token}
        )
        assert response.status_code == 400, token
        response = client.post(
            f"/cases/{reference}/legal-hold",
            data={"hold": "yes"},
            headers={"X-CSRF-Token": token},
        )
        assert response.status_code == 400, token
    assert not _legal_hold(app)


def test_the_token_from_the_page_is_accepted(signed_in, make_case, app):
    reference = make_case()
    client = signed_in("operator")
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        f"/cases/{reference}/legal-hold", data={"hold": "yes", "csrf_token": token}
    )
    assert response.status_code == 302
    assert _legal_hold(app)


def test_the_header_token_of_the_page_scripts_is_accepted(signed_in):
    client = signed_in("operator")
    page = client.get("/intake/new").get_data(as_text=True)
    token = page.split('<meta name="csrf-token" content="')[1].split('"')[0]
    form = {"area_text": "tien yen", "risk": "high"}
    headers = {"X-Requested-With": "fetch"}
    assert client.post("/intake/preview", data=form, headers=headers).status_code == 400
    response = client.post("/intake/preview", data=form, headers=headers | {"X-CSRF-Token": token})
    assert response.status_code == 200


def test_the_token_lasts_as_long_as_the_session(signed_in, make_case, app):
    """A long intake during a call: a token made hours ago still works."""
    reference = make_case()
    client = signed_in("operator")
    csrf_of(client)  # creates the session's token if the sign-in left none
    with client.session_transaction() as session:
        raw = session["csrf_token"]
    hours = app.config["SESSION_MAX_HOURS"]
    token = _signed_long_ago(app, raw, hours * 3600 - 60)
    response = client.post(
        f"/cases/{reference}/legal-hold", data={"hold": "yes", "csrf_token": token}
    )
    assert response.status_code == 302
    assert _legal_hold(app)


def test_https_forms_need_no_referer(signed_in, make_case, app):
    """The pages send ``Referrer-Policy: no-referrer``: browsers send no Referer, so the
    token alone must do (no Flask-WTF "strict SSL" referer check)."""
    reference = make_case()
    client = signed_in("operator")
    response = client.post(
        f"/cases/{reference}/legal-hold",
        data={"hold": "yes", "csrf_token": csrf_of(client)},
        base_url="https://localhost",  # the host the session cookie was set for
    )
    assert response.status_code == 302
    assert _legal_hold(app)


def test_an_expired_session_with_its_token_goes_to_the_login_page(signed_in, make_case, app):
    reference = make_case()
    client = signed_in("operator")
    token = csrf_of(client)
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - app.config["SESSION_IDLE_MINUTES"] * 60 - 5
    response = client.post(
        f"/cases/{reference}/legal-hold", data={"hold": "yes", "csrf_token": token}
    )
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not _legal_hold(app)


def test_login_without_or_with_a_wrong_token_is_refused(client, demo):
    username = ROLE_USERS["operator"]
    credentials = {"username": username, "password": password_for(username)}
    client.get("/login")
    assert client.post("/login", data=credentials).status_code == 400
    bad = credentials | {"csrf_token": "forged"}
    assert client.post("/login", data=bad).status_code == 400
    assert client.get("/operator/").status_code == 302  # not signed in
    assert post_form(client, "/login", credentials).status_code == 302
    assert client.get("/operator/").status_code == 200


def test_sign_in_starts_a_new_token(client, demo):
    """No session fixation: the token before sign-in is not the one after."""
    username = ROLE_USERS["operator"]
    before = csrf_of(client)
    with client.session_transaction() as session:
        raw_before = session["csrf_token"]
    credentials = {"username": username, "password": password_for(username)}
    assert client.post("/login", data=credentials | {"csrf_token": before}).status_code == 302
    client.get("/operator/")
    with client.session_transaction() as session:
        assert session.get("csrf_token") != raw_before
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400


def test_the_api_needs_a_bearer_token_not_a_csrf_token(client, token_for):
    response = client.post("/api/v1/cases", json=case_body(), headers=token_for("operator"))
    assert response.status_code == 201
    # A session cookie in the same client changes nothing: the API never reads it.
    client.get("/login")
    response = client.post("/api/v1/cases", json=case_body(), headers=token_for("operator"))
    assert response.status_code == 201
    assert client.post("/api/v1/cases", json=case_body()).status_code == 401


def test_signed_webhooks_need_no_csrf_token(app, demo, client):
    form = {
        "MessageSid": "SM" + "c" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": "+84900777123",
        "To": "+841800176900",
        "Body": "em ở Tiên Yên",
        "NumMedia": "0",
    }
    signature = twilio_sign(HTTPS + "/twilio/sms", form, app.config["TWILIO_AUTH_TOKEN"])
    response = client.post(
        "/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}, base_url=HTTPS
    )
    assert response.status_code == 200

    body = json.dumps({"message_id": "gw-csrf", "from": "0900777124", "to": "1", "text": "x"})
    saved = app.config.get("SMS_GATEWAY_SECRET")
    app.config["SMS_GATEWAY_SECRET"] = "csrf-test-secret"
    try:
        response = client.post(
            "/sms-gateway/inbound",
            data=body.encode(),
            headers={"X-Gateway-Signature": gateway_sign(body.encode(), "csrf-test-secret")},
            content_type="application/json",
        )
    finally:
        app.config["SMS_GATEWAY_SECRET"] = saved
    assert response.status_code == 200
    with app.app_context():  # both recorded (journal first), then made into conversations
        assert db.session.scalar(db.select(db.func.count()).select_from(InboundJournal)) == 2
    assert drain_journal(app) == 2
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Contact)) == 2


def test_the_dev_phone_and_the_alert_link_are_ordinary_forms(client, demo):
    """Not exempt: their pages carry the token, a forged post elsewhere has none."""
    assert client.post("/dev/phone/sms", data={"text": "x"}).status_code == 400
    assert client.post("/a/not-a-real-token").status_code == 400
    assert post_form(client, "/a/not-a-real-token").status_code == 404


def test_every_api_and_webhook_route_is_in_an_exempt_blueprint(app):
    """Exemptions are by blueprint now, not by path: a new API or webhook blueprint must be
    passed to ``init_web(csrf_exempt=…)`` too."""
    from hotline.extensions import csrf

    exempt = {bp.name for bp in csrf._exempt_blueprints}
    assert exempt == {
        "api",
        "stats_api",
        "twilio_webhooks",
        "sms_gateway",
        "sms_gateway_android",
        "zalo_webhook",
    }
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/twilio/", "/sms-gateway/", "/zalo/")):
            assert rule.endpoint.split(".")[0] in exempt, rule.rule
        elif rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            assert rule.endpoint.split(".")[0] not in exempt, rule.rule
