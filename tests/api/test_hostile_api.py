"""What an attacker sends the REST API gets a clear 4xx on SQLite and PostgreSQL, never a 5xx:
huge numbers, NUL bytes, wrong JSON types, deep JSON, ids past 2**31, bodies over the limit,
hostile map documents."""
from __future__ import annotations

import dataclasses

import pytest

from integration.app import create_app
from integration.sandboxes import sandbox_settings
from integration.store.tenancy import get_or_create_tenant, issue_token
from tests.mapping.test_hostile_maps import BILLION_LAUGHS



@pytest.fixture(scope="module")
def client(services):
    services = dataclasses.replace(
        services, settings=services.settings.with_overrides(max_body_bytes=100_000))
    return create_app(services.settings, services).test_client()


@pytest.fixture(scope="module")
def headers(services, client, hs_sandbox):
    with services.session() as session:
        token = issue_token(session, get_or_create_tenant(session, "hostile").id)
    auth = {"Authorization": f"Bearer {token}"}
    # A connection is checked with its CRM before it is saved: the shared HubSpot sandbox's.
    res = client.post("/api/v1/connections", headers=auth, json={
        "name": "target", "crm": "hubspot",
        "settings": sandbox_settings("hubspot", hs_sandbox.info())})
    assert res.status_code == 201, res.json
    return auth


def send(client, headers, method, path, body):
    return client.open(path, method=method, headers={**headers, "Content-Type": "application/json"},
                       data=body)


@pytest.mark.parametrize("method, path, body, status, code", [
    ("PATCH", "/api/v1/connections/target", '{"sync_interval_seconds": ' + "9" * 30 + "}", 400, "BAD_JSON"),
    ("PATCH", "/api/v1/connections/target", '{"sync_interval_seconds": 99999999999999}', 422,
     "INVALID_CONNECTION"),
    ("PATCH", "/api/v1/connections/target", '{"sync_interval_seconds": true}', 422, "INVALID_CONNECTION"),
    ("PATCH", "/api/v1/connections/target", '{"sync_interval_seconds": 1e400}', 400, "BAD_JSON"),
    ("POST", "/api/v1/connections", '{"name": "a\\u0000b", "crm": "hubspot"}', 400, "BAD_JSON"),
    ("POST", "/api/v1/connections", '{"name": ["x"], "crm": "hubspot"}', 422, "INVALID_CONNECTION"),
    ("POST", "/api/v1/connections", '{"name": "x", "crm": {"a": 1}}', 422, "INVALID_CONNECTION"),
    ("POST", "/api/v1/connections", '{"name": "x", "crm": "hubspot", "settings": [1]}', 422,
     "INVALID_CONNECTION"),
    ("POST", "/api/v1/connections", '{"name": "x", "crm": "hubspot", "account_id": 5}', 422,
     "INVALID_CONNECTION"),
    ("POST", "/api/v1/connections", "[" * 5000 + "]" * 5000, 400, "BAD_JSON"),
    ("POST", "/api/v1/connections", '{"a": ' * 40 + "1" + "}" * 40, 400, "BAD_JSON"),
    ("POST", "/api/v1/connections/target/outbox/retry", '{"ids": [3000000000]}', 422, "INVALID_REQUEST"),
    ("POST", "/api/v1/connections/target/outbox/retry", '{"ids": [true]}', 422, "INVALID_REQUEST"),
    ("POST", "/api/v1/connections/target/sync", "[1]", 400, "BAD_JSON"),
    ("POST", "/api/v1/maps/validate", '{"document": 5}', 422, "INVALID_MAP"),
    ("GET", "/api/v1/connections/3000000000", None, 404, "NOT_FOUND"),
    ("GET", "/api/v1/connections/%C2%B2", None, 404, "NOT_FOUND"),
    ("GET", "/api/v1/connections/target/runs/3000000000", None, 404, "NOT_FOUND"),
    ("GET", "/api/v1/connections/target/map/versions/99999999999999999999", None, 404, "NOT_FOUND"),
    ("GET", "/api/v1/connections/tar%00get", None, 400, "BAD_REQUEST"),
    ("GET", "/api/v1/connections/target/records?owner=a%00b", None, 400, "BAD_REQUEST"),
    ("GET", "/api/v1/connections/target/records?limit=" + "9" * 5000, None, 400, "BAD_PARAMETER"),
    ("GET", "/api/v1/connections/target/records?stalld=true", None, 400, "BAD_PARAMETER"),
])
def test_hostile_requests_get_a_clear_4xx(client, headers, method, path, body, status, code):
    res = send(client, headers, method, path, body)
    assert (res.status_code, res.json["error"]["code"]) == (status, code), res.json


def test_a_body_over_the_limit_is_413_before_it_is_read(client, headers):
    res = send(client, headers, "POST", "/api/v1/maps/validate", '{"document": "' + "x" * 200_000 + '"}')
    assert res.status_code == 413
    assert res.json["error"]["code"] == "REQUEST_ENTITY_TOO_LARGE"


def test_a_billion_laughs_map_is_a_422_naming_the_limit(client, headers):
    res = client.post("/api/v1/maps/validate", headers=headers, json={"document": BILLION_LAUGHS})
    assert res.status_code == 422
    assert res.json["error"]["details"] == [{"path": "a5", "line": 6, "message":
                                             "holds more than 100,000 values once its aliases are expanded"}]
