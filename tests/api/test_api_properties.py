"""Property-based tests of the API against its own OpenAPI document (schemathesis): no
generated input makes it fail with a 5xx, and every answer matches the document.

The operations' strategies are driven with Hypothesis directly (one test per operation),
which keeps the run bounded and independent of schemathesis' pytest plugin internals.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

OPERATIONS = [
    ("/api/v1/cases", "POST"),
    ("/api/v1/cases", "GET"),
    ("/api/v1/cases/{reference}", "GET"),
    ("/api/v1/cases/{reference}", "PATCH"),
    ("/api/v1/cases/{reference}/notes", "POST"),
    ("/api/v1/cases/{reference}/referrals", "POST"),
    ("/api/v1/cases/{reference}/messages", "POST"),
    ("/api/v1/tasks", "GET"),
    ("/api/v1/tasks/{task_id}/done", "POST"),
    ("/api/v1/tasks/{task_id}/recording", "GET"),
    ("/api/v1/referrals", "GET"),
    ("/api/v1/referrals/{referral_id}/acknowledge", "POST"),
    ("/api/v1/referrals/{referral_id}/accept", "POST"),
    ("/api/v1/referrals/{referral_id}/decline", "POST"),
    ("/api/v1/referrals/{referral_id}/outcome", "POST"),
    ("/api/v1/service-points/{code}/occupancy", "PUT"),
    ("/api/v1/stats", "GET"),
    ("/api/v1/me/availability", "PUT"),
    ("/api/v1/calls/{call_sid}/transfer", "POST"),
]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_every_documented_operation_is_covered(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    documented = {
        (result.ok().path, result.ok().method.upper()) for result in schema.get_all_operations()
    }
    assert documented == set(OPERATIONS)


@pytest.mark.slow
@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_api_never_fails_and_matches_its_document(app, token_for, make_case, path, method):
    make_case()  # something real to find, acknowledge and close
    role = (
        "social_worker"
        if path.startswith("/api/v1/referrals")
        else "manager"
        if path == "/api/v1/stats"
        else "admin"
        if path.startswith("/api/v1/service-points")
        else "operator"
    )
    headers = token_for(role)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=50,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
