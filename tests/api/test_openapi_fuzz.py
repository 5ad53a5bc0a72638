"""Schemathesis against /api/v1/openapi.json, on SQLite and PostgreSQL: no 5xx, no answer the
document does not declare (status, content type, headers, body schema), 405 with Allow.

Schema-valid data may still be refused with a declared 422 (a map document is any string to the
schema, but only a valid map is accepted), so Schemathesis's positive-data-acceptance check is off.
Examples per operation are bounded so the module stays fast; bench/bench_openapi_fuzz.py runs 100
positive and 100 negative examples per operation.
"""
from __future__ import annotations

import copy

import pytest

from bench.bench_openapi_fuzz import fuzz
from integration.app import create_app
from integration.sandboxes import sandbox_settings
from integration.store.tenancy import get_or_create_tenant, issue_token
from tests.fixtures_hubspot import HS_SEED


@pytest.fixture(scope="module")
def fuzz_app(services):
    return create_app(services.settings, services)


@pytest.fixture(scope="module")
def fuzz_token(services):
    with services.session() as session:
        return issue_token(session, get_or_create_tenant(session, "fuzz").id)


@pytest.fixture(scope="module")
def fuzz_connection(fuzz_app, fuzz_token, make_hs_sandbox):
    """The app's one connection, to a HubSpot sandbox (no 502s from an unreachable CRM)."""
    settings = sandbox_settings("hubspot", make_hs_sandbox(copy.deepcopy(HS_SEED)).info())
    res = fuzz_app.test_client().post("/api/v1/connections", headers={"Authorization": f"Bearer {fuzz_token}"},
                                      json={"name": "fuzz", "crm": "hubspot", "settings": settings})
    assert res.status_code == 201, res.json
    return res.json


def test_the_api_answers_as_its_document_says(fuzz_app, fuzz_token, fuzz_connection):
    made, failures = fuzz(fuzz_app, fuzz_token, examples=6)
    assert made > 100
    assert dict(failures) == {}


def test_a_wrong_method_is_405_with_allow(fuzz_app, fuzz_token):
    res = fuzz_app.test_client().delete("/api/v1/maps/validate", headers={"Authorization": f"Bearer {fuzz_token}"})
    assert res.status_code == 405
    assert set(res.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    assert res.json["error"]["code"] == "METHOD_NOT_ALLOWED"
