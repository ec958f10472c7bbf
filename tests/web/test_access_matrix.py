"""Every role × every route, screens and API: who gets what.

``own_sw`` is the social worker of the service point the case was referred to; ``other_sw``
works at another commune's point. Out-of-scope cases and referrals are 404 (no hint that
they exist); a screen or operation a role never uses is 403; anonymous screens go to
the login page and anonymous API calls get 401.
"""

from __future__ import annotations

import pytest

from models import Referral, db
from tests.factories import case_body
from tests.webclient import OTHER_SW, ROLE_USERS, csrf_of

ROLES = ("anonymous", "operator", "own_sw", "other_sw", "manager", "admin")
USERNAMES = {
    "operator": ROLE_USERS["operator"],
    "own_sw": ROLE_USERS["social_worker"],
    "other_sw": OTHER_SW,
    "manager": ROLE_USERS["manager"],
    "admin": ROLE_USERS["admin"],
}

#: (method, url template, expected status per role in ROLES order)
SCREENS = [
    ("GET", "/operator/", (302, 200, 403, 403, 403, 403)),
    ("GET", "/operator/board/live", (302, 200, 403, 403, 403, 403)),
    ("POST", "/operator/contacts/{contact}/reveal", (302, 200, 403, 403, 403, 403)),
    ("GET", "/intake/new", (302, 200, 403, 403, 403, 403)),
    ("GET", "/intake/new?contact={contact}", (302, 200, 403, 403, 403, 403)),
    ("POST", "/intake/preview", (302, 200, 403, 403, 403, 403)),
    ("GET", "/cases/{case}", (302, 200, 200, 404, 404, 404)),
    ("GET", "/cases/QN0000-NONE0", (302, 404, 404, 404, 404, 404)),
    ("POST", "/cases/{case}/legal-hold", (302, 302, 403, 403, 403, 403)),
    ("GET", "/inbox/", (302, 403, 200, 200, 403, 403)),
    ("POST", "/inbox/referrals/{referral}/acknowledge", (302, 403, 302, 404, 403, 403)),
    ("POST", "/inbox/referrals/{referral}/accept", (302, 403, 302, 404, 403, 403)),
    ("POST", "/inbox/referrals/{referral}/decline", (302, 403, 302, 404, 403, 403)),
    ("POST", "/inbox/referrals/{referral}/outcome", (302, 403, 302, 404, 403, 403)),
    ("GET", "/manager/", (302, 403, 403, 403, 302, 403)),
    ("GET", "/dashboard/", (302, 403, 403, 403, 200, 403)),
    ("GET", "/dashboard/export.csv", (302, 403, 403, 403, 200, 403)),
    ("GET", "/dashboard/report.xlsx?period=2026-S1", (302, 403, 403, 403, 200, 403)),
    ("GET", "/admin/", (302, 403, 403, 403, 403, 200)),
    ("GET", "/admin/points/DEMO-TT-TINH", (302, 403, 403, 403, 403, 200)),
    ("GET", "/admin/points/new", (302, 403, 403, 403, 403, 200)),
    ("GET", "/admin/directory/import", (302, 403, 403, 403, 403, 200)),
    ("GET", "/admin/directory/export.csv", (302, 403, 403, 403, 403, 200)),
    ("GET", "/admin/users", (302, 403, 403, 403, 403, 200)),
    ("POST", "/admin/users/{user}/unlock", (302, 403, 403, 403, 403, 302)),
    ("POST", "/admin/users/{user}/duty", (302, 403, 403, 403, 403, 302)),
    ("POST", "/admin/users/{user}/role", (302, 403, 403, 403, 403, 302)),
    ("POST", "/admin/users/{user}/password", (302, 403, 403, 403, 403, 302)),
    ("GET", "/admin/audit", (302, 403, 403, 403, 403, 200)),
]

API = [
    ("POST", "/api/v1/cases", (401, 201, 403, 403, 403, 403)),
    ("GET", "/api/v1/cases/{case}", (401, 200, 200, 404, 404, 404)),
    ("GET", "/api/v1/cases/QN0000-NONE0", (401, 404, 404, 404, 404, 404)),
    ("GET", "/api/v1/referrals", (401, 403, 200, 200, 403, 403)),
    ("POST", "/api/v1/referrals/{referral}/acknowledge", (401, 403, 200, 404, 403, 403)),
    ("POST", "/api/v1/referrals/{referral}/outcome", (401, 403, 200, 404, 403, 403)),
    ("GET", "/api/v1/stats?period=2026-S1", (401, 403, 403, 403, 200, 403)),
    ("GET", "/api/v1/openapi.json", (200, 200, 200, 200, 200, 200)),
]

FORM_DATA = {
    "/intake/preview": {"commune_code": "06862", "risk": "high"},
    "/inbox/referrals/{referral}/decline": {"reason": "no staff today"},
    "/inbox/referrals/{referral}/outcome": {"services_received": "counselling"},
    "/cases/{case}/legal-hold": {"hold": "yes"},
    "/admin/users/{user}/duty": {"on_duty": "no"},
    "/admin/users/{user}/role": {"role": "manager"},
    "/admin/users/{user}/password": {"password": "a-new-long-password"},
}


@pytest.fixture
def world(app, demo, make_case, make_contact):
    reference = make_case()
    contact = make_contact()
    with app.app_context():
        referral = db.session.scalars(
            db.select(Referral).where(Referral.service_point.has(code="DEMO-DCTC-06862"))
        ).one()
        user_id = db.session.scalar(
            db.select(db.text("id")).select_from(db.text("user_account")).limit(1)
        )
        return {"case": reference, "contact": contact, "referral": referral.id, "user": user_id}


def _expected(table, role):
    index = ROLES.index(role)
    return [(method, url, statuses[index]) for method, url, statuses in table]


def _client(app, signed_in, role):
    return app.test_client() if role == "anonymous" else signed_in(USERNAMES[role])


@pytest.mark.parametrize("role", ROLES)
def test_each_screen_answers_each_role_as_the_matrix_says(app, world, signed_in, role):
    client = _client(app, signed_in, role)
    wrong = []
    for method, url, expected in _expected(SCREENS, role):
        path = url.format(**world)
        if method == "GET":
            response = client.get(path)
        else:
            data = dict(FORM_DATA.get(url, {}))
            data["csrf_token"] = csrf_of(client)
            response = client.post(path, data=data)
        if response.status_code != expected:
            wrong.append((method, path, expected, response.status_code))
        elif role == "anonymous" and "/login" not in response.headers["Location"]:
            wrong.append((method, path, "redirect to /login", response.headers["Location"]))
    assert wrong == []


@pytest.mark.parametrize("role", ROLES)
def test_each_api_operation_answers_each_role_as_the_matrix_says(app, world, token_for, role):
    client = app.test_client()
    headers = {} if role == "anonymous" else token_for(USERNAMES[role])
    wrong = []
    for method, url, expected in _expected(API, role):
        path = url.format(**world)
        if method == "GET":
            response = client.get(path, headers=headers)
        elif url.endswith("/outcome"):
            response = client.post(
                path, json={"services_received": ["counselling"]}, headers=headers
            )
        elif url == "/api/v1/cases":
            response = client.post(path, json=case_body(), headers=headers)
        else:
            response = client.post(path, headers=headers)
        if response.status_code != expected or not response.is_json:
            wrong.append((method, path, expected, response.status_code))
    assert wrong == []


def test_a_manager_or_admin_never_sees_case_contents_anywhere(app, world, signed_in):
    for role in ("manager", "admin"):
        client = signed_in(USERNAMES[role])
        for path in ("/dashboard/", "/admin/", "/admin/audit", "/admin/users"):
            page = client.get(path).get_data(as_text=True)
            assert "canary-note" not in page
            assert "900777111" not in page and "900555123" not in page
