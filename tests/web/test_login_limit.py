"""The login limit behind a proxy: per address and per account (DESIGN.md section 15)."""

from __future__ import annotations

from hotline import create_app
from tests.webclient import ROLE_USERS, post_form, sign_in


def _from(address: str) -> dict:
    return {"headers": {"X-Forwarded-For": address}}


def _attempt(client, username: str, password: str, address: str) -> int:
    client.get("/login", **_from(address))
    return post_form(
        client, "/login", {"username": username, "password": password}, **_from(address)
    ).status_code


def test_behind_a_proxy_one_address_cannot_lock_out_another_account(demo):
    app = create_app({"TRUSTED_PROXY_HOPS": 1, "LOGIN_RATE_LIMIT": 3})
    attacker = app.test_client()
    codes = [
        _attempt(attacker, f"guess-{i}", "whatever-password", "203.0.113.7") for i in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]
    operator = app.test_client()
    username = ROLE_USERS["operator"]
    assert _attempt(operator, username, "demo-operator-18001769", "198.51.100.20") == 302


def test_without_trusted_proxies_a_spoofed_forwarded_for_is_ignored(demo):
    app = create_app({"TRUSTED_PROXY_HOPS": 0, "LOGIN_RATE_LIMIT": 3})
    attacker = app.test_client()
    codes = [
        _attempt(attacker, f"guess-{i}", "whatever-password", f"203.0.113.{i}") for i in range(5)
    ]
    assert codes[3:] == [429, 429]  # every attempt counted against the real address


def test_an_account_under_attack_from_many_addresses_slows_down_others_do_not(demo):
    app = create_app(
        {"TRUSTED_PROXY_HOPS": 1, "LOGIN_RATE_LIMIT": 100, "LOGIN_ACCOUNT_RATE_LIMIT": 3}
    )
    client = app.test_client()
    codes = [
        _attempt(client, "target-account", "whatever-password", f"203.0.113.{i}") for i in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]
    page = app.test_client()
    page.get("/login", **_from("203.0.113.99"))
    refused = post_form(
        page,
        "/login?lang=en",
        {"username": "target-account", "password": "x" * 12},
        **_from("203.0.113.99"),
    ).get_data(as_text=True)
    assert "Wait a few minutes and try again" in refused
    assert "address" not in refused and "account" not in refused.split("login-error")[-1][:200]
    # The same addresses can still sign in to another account.
    assert _attempt(client, ROLE_USERS["operator"], "demo-operator-18001769", "203.0.113.1") == 302


def test_the_scheme_comes_from_the_proxy_when_trusted(demo):
    app = create_app({"TRUSTED_PROXY_HOPS": 1})
    client = app.test_client()
    headers = {"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}
    response = client.get("/login", headers=headers)
    assert response.headers.get("Strict-Transport-Security")  # request.is_secure
    assert not app.test_client().get("/login").headers.get("Strict-Transport-Security")


def test_sign_in_still_works_for_the_demo_helpers(client, demo):
    assert sign_in(client, ROLE_USERS["operator"]).status_code == 302
