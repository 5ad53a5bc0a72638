"""Schemathesis against /api/v1/openapi.json, on SQLite and PostgreSQL: no 5xx, no answer the
document does not declare (status, content type, headers, body schema), 405 with Allow.

Schema-valid data may still be refused with a declared 422 (a map document is any string to the
schema, but only a valid map is accepted), so Schemathesis's positive-data-acceptance check is off.
Examples per operation are bounded so the module stays fast; bench/ is the place for long runs.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from integration.app import create_app
from integration.store.tenancy import get_or_create_tenant, issue_token

HUBSPOT = {"access_token": "pat-na1-secret-token", "base_url": "http://127.0.0.1:9"}


@pytest.fixture(scope="module")
def fuzz_app(services):
    return create_app(services.settings, services)


@pytest.fixture(scope="module")
def fuzz_token(services):
    with services.session() as session:
        return issue_token(session, get_or_create_tenant(session, "fuzz").id)


@pytest.fixture(scope="module")
def api_schema(fuzz_app, fuzz_token):
    res = fuzz_app.test_client().post("/api/v1/connections", headers={"Authorization": f"Bearer {fuzz_token}"},
                                      json={"name": "fuzz", "crm": "hubspot", "settings": HUBSPOT})
    assert res.status_code == 201, res.json
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)


def operations(api_schema):
    """Every operation of the document (a broken document fails here)."""
    return [result.ok() for result in api_schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_as_its_document_says(api_schema, fuzz_token, mode):
    failures = {}
    for operation in operations(api_schema):
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=6, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers_as_documented(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_token}"},
                                   excluded_checks=[positive_data_acceptance])

        try:
            answers_as_documented()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report
            failures[operation.label] = str(exc)[:2000]
    assert failures == {}


def test_a_wrong_method_is_405_with_allow(fuzz_app, fuzz_token):
    res = fuzz_app.test_client().delete("/api/v1/maps/validate", headers={"Authorization": f"Bearer {fuzz_token}"})
    assert res.status_code == 405
    assert set(res.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    assert res.json["error"]["code"] == "METHOD_NOT_ALLOWED"
