"""The OpenAPI document is derived from the code: from the routes under /api/v1 and the
pydantic models that validate their requests, so the document and the behaviour agree."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from pydantic import BaseModel

from hotline.api.auth import token_required
from hotline.api.referrals import OutcomeBody
from hotline.api.responses import Case, ReferralList
from hotline.api.schema import api_routes, documented, documented_path, model_schema
from hotline.api.schema import openapi_document as build_document
from hotline.api.stats import StatsQuery
from hotline.cases.body import CaseBody
from tests.factories import case_body

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def doc(client) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").get_json()


def test_every_route_under_api_v1_is_documented_with_its_methods(app, doc):
    documented_methods = {
        (path, method.upper()) for path, item in doc["paths"].items() for method in item
    }
    routes = {
        (documented_path(rule), method)
        for rule, _view in api_routes(app)
        for method in rule.methods - {"HEAD", "OPTIONS"}
        if not rule.rule.endswith("/openapi.json")
    }
    assert routes and routes == documented_methods


def test_a_route_without_a_declaration_stops_the_document():
    app = Flask("undeclared")
    app.add_url_rule("/api/v1/secret", "secret", lambda: "")
    with app.app_context(), pytest.raises(LookupError, match="/api/v1/secret"):
        build_document(app)


def test_auth_and_body_answers_are_derived_from_the_declaration():
    class Body(BaseModel):
        name: str

    class Answer(BaseModel):
        ok: bool

    app = Flask("declared")

    @app.post("/api/v1/things")
    @documented("makeThing", body=Body, responses={201: (Answer, "Made.")})
    @token_required("admin")
    def make():
        """Make a thing."""

    with app.app_context():
        entry = build_document(app)["paths"]["/api/v1/things"]["post"]
    assert entry["summary"] == "Make a thing."
    assert set(entry["responses"]) == {"201", "400", "401", "403", "422"}
    assert entry["requestBody"]["content"]["application/json"]["schema"]["required"] == ["name"]


def _body_schema(doc: dict, path: str) -> dict:
    return doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]


@pytest.mark.parametrize(
    ("path", "model"),
    [("/api/v1/cases", CaseBody), ("/api/v1/referrals/{referral_id}/outcome", OutcomeBody)],
)
def test_the_body_schema_is_the_models_schema(doc, path, model):
    schema = model_schema(model)
    definitions = schema.pop("$defs", {})
    assert _body_schema(doc, path) == schema
    for name, definition in definitions.items():
        assert doc["components"]["schemas"][name] == definition


def test_query_parameters_are_the_query_models_fields(doc):
    schema = model_schema(StatsQuery)
    parameters = doc["paths"]["/api/v1/stats"]["get"]["parameters"]
    assert {p["name"]: p["schema"] for p in parameters} == schema["properties"]
    assert [p["name"] for p in parameters if p["required"]] == schema["required"]


def _fields(doc: dict, schema: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Every documented body field as (dotted path, the key its 422 errors come under)."""
    found = []
    for name, field in schema.get("properties", {}).items():
        path = prefix + name
        found.append((path, field.get("x-error-key", path)))
        if "$ref" in field:
            field = doc["components"]["schemas"][field["$ref"].rsplit("/", 1)[-1]]
        found.extend(_fields(doc, field, path + "."))
    return found


def _with(body: dict, path: str, value: Any) -> dict:
    *parents, name = path.split(".")
    target = body
    for parent in parents:
        target[parent] = target = dict(target.get(parent) or {})
    target[name] = value
    return body


def test_every_documented_case_field_refused_gives_its_documented_error_key(
    client, token_for, doc
):
    fields = _fields(doc, _body_schema(doc, "/api/v1/cases"))
    assert ("survivor.sex", "sex") in fields and (
        "consent.follow_up",
        "consent.follow_up",
    ) in fields
    headers = token_for("operator")
    for path, key in fields:
        response = client.post("/api/v1/cases", json=_with(case_body(), path, 1), headers=headers)
        assert response.status_code == 422, path
        assert key in response.get_json()["errors"], (path, response.get_json())


def test_every_documented_outcome_field_refused_gives_its_documented_error_key(
    client, token_for, make_case, doc
):
    make_case()
    headers = token_for("social_worker")
    referral = client.get("/api/v1/referrals", headers=headers).get_json()["items"][0]["id"]
    fields = _fields(doc, _body_schema(doc, "/api/v1/referrals/{referral_id}/outcome"))
    assert ("perpetrator.counselled", "perpetrator.counselled") in fields
    for path, key in fields:
        body = _with({"services_received": []}, path, 1)
        response = client.post(f"/api/v1/referrals/{referral}/outcome", json=body, headers=headers)
        assert response.status_code == 422, path
        assert set(response.get_json()["errors"]) == {key}, path


def test_every_documented_query_parameter_refused_gives_its_error_key(client, token_for, doc):
    headers = token_for("manager")
    for parameter in doc["paths"]["/api/v1/stats"]["get"]["parameters"]:
        query = {"period": "2026-01", parameter["name"]: "nonsense"}
        response = client.get("/api/v1/stats", query_string=query, headers=headers)
        assert response.status_code == 422
        assert set(response.get_json()["errors"]) == {parameter["name"]}


def test_answers_are_instances_of_the_documented_models(client, token_for, make_case):
    reference = make_case()
    for role in ("operator", "social_worker"):
        answer = client.get(f"/api/v1/cases/{reference}", headers=token_for(role)).get_json()
        Case.model_validate(answer)
    listed = client.get("/api/v1/referrals", headers=token_for("social_worker")).get_json()
    assert ReferralList.model_validate(listed).items
