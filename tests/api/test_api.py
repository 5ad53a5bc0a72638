"""The REST API through Flask's test client, on SQLite and PostgreSQL: auth, tenancy, errors,
connections, maps, runs, outbox, and the OpenAPI document."""
from __future__ import annotations

import pytest

from integration.app import create_app
from integration.sandboxes import sandbox_settings
from integration.store.tenancy import get_or_create_tenant, issue_token
from tests.support import forge_signed_in


BAD_MAP = """\
version: 1
name: broken
stages:
  - key: awareness
    label: Awareness
    expected_days: -3
  - key: awareness
    label: Again
exits:
  - {key: lost, label: Lost}
sources:
  hubspot:
    deal: {field: dealstage, pipelines: {default: {closedwon: purchased}}}
personas: []
default_persona: general
actions:
  - {stage: nowhere, action: "x"}
"""

GOOD_MAP = """\
version: 1
name: small
stages:
  - {key: awareness, label: Awareness, expected_days: 10}
  - {key: decision, label: Decision, expected_days: 20}
exits:
  - {key: lost, label: Lost}
sources:
  hubspot:
    deal: {field: dealstage, pipelines: {default: {appointmentscheduled: awareness, closedlost: lost}}}
personas: []
default_persona: general
actions:
  - {stage: decision, stalled: true, action: "Call them"}
"""


@pytest.fixture(scope="module")
def app(services):
    return create_app(services.settings, services)


@pytest.fixture(scope="module")
def tokens(services):
    with services.session() as s:
        a = get_or_create_tenant(s, "tenant-a")
        b = get_or_create_tenant(s, "tenant-b")
        return issue_token(s, a.id), issue_token(s, b.id)


@pytest.fixture()
def client(app):
    return app.test_client()


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def hubspot_settings(hs_sandbox):
    """Settings of the shared HubSpot sandbox (portal 62515)."""
    return sandbox_settings("hubspot", hs_sandbox.info())


@pytest.fixture(scope="module")
def hubspot_conn(app, tokens, hubspot_settings):
    res = app.test_client().post("/api/v1/connections", headers=auth(tokens[0]),
                                 json={"name": "hs", "crm": "hubspot", "settings": hubspot_settings})
    assert res.status_code == 201, res.json
    return res.json


def test_calls_without_a_valid_token_get_401_in_the_error_shape(client):
    for headers in ({}, auth("jsk_nope")):
        res = client.get("/api/v1/connections", headers=headers)
        assert res.status_code == 401
        assert res.json["error"]["code"] == "UNAUTHENTICATED"
        assert set(res.json["error"]) == {"code", "message", "details"}


def test_created_connection_never_shows_its_secrets(client, tokens, hubspot_conn,
                                                    hubspot_settings):
    assert hubspot_conn["crm"] == "hubspot" and hubspot_conn["name"] == "hs"
    listed = client.get("/api/v1/connections", headers=auth(tokens[0]))
    assert [c["name"] for c in listed.json["connections"]] == ["hs"]
    for res in (listed, client.get("/api/v1/connections/hs", headers=auth(tokens[0]))):
        assert hubspot_settings["access_token"] not in res.get_data(as_text=True)


def test_another_tenant_cannot_see_or_touch_a_connection(client, tokens, hubspot_conn):
    other = auth(tokens[1])
    assert client.get("/api/v1/connections", headers=other).json["connections"] == []
    for method, path in (("get", "/api/v1/connections/hs"),
                         ("get", f"/api/v1/connections/{hubspot_conn['id']}"),
                         ("delete", "/api/v1/connections/hs"),
                         ("post", "/api/v1/connections/hs/sync"),
                         ("get", "/api/v1/connections/hs/map"),
                         ("get", "/api/v1/connections/hs/records")):
        res = getattr(client, method)(path, headers=other)
        assert res.status_code == 404, (method, path)
        assert res.json["error"]["code"] == "NOT_FOUND"


def test_invalid_connection_lists_every_problem(client, tokens):
    res = client.post("/api/v1/connections", headers=auth(tokens[0]),
                      json={"name": "x", "crm": "hubspot", "settings": {"acess_token": "t"},
                            "sync_interval_seconds": 5})
    assert res.status_code == 422
    details = res.json["error"]["details"]
    assert details["settings.access_token"] == "required"
    assert details["settings.acess_token"] == "unknown setting"
    res = client.post("/api/v1/connections", headers=auth(tokens[0]),
                      json={"name": "x", "crm": "pipedrive", "sync_interval_seconds": 5})
    assert set(res.json["error"]["details"]) == {"crm", "sync_interval_seconds"}


def test_malformed_json_is_a_400(client, tokens):
    res = client.post("/api/v1/connections", headers={**auth(tokens[0]),
                                                      "Content-Type": "application/json"},
                      data="{not json")
    assert res.status_code == 400 and res.json["error"]["code"] == "BAD_JSON"
    res = client.post("/api/v1/connections", headers=auth(tokens[0]), json=[1, 2])
    assert res.status_code == 400


def test_duplicate_connection_name_is_a_409(client, tokens, hubspot_conn, make_hs_sandbox):
    other = make_hs_sandbox({"portal_id": 4404})
    res = client.post("/api/v1/connections", headers=auth(tokens[0]),
                      json={"name": "hs", "crm": "hubspot",
                            "settings": sandbox_settings("hubspot", other.info())})
    assert res.status_code == 409 and res.json["error"]["code"] == "NAME_TAKEN"


def test_bad_map_gets_every_problem_with_its_path_and_nothing_is_saved(client, tokens, hubspot_conn):
    h = auth(tokens[0])
    res = client.put("/api/v1/connections/hs/map", headers=h,
                     json={"document": BAD_MAP, "comment": "oops"})
    assert res.status_code == 422
    paths = {p["path"] for p in res.json["error"]["details"]}
    assert "stages[0].expected_days" in paths
    assert "stages[1].key" in paths
    assert "sources.hubspot.deal.pipelines.default.closedwon" in paths
    assert "actions[0].stage" in paths
    assert all(p["line"] for p in res.json["error"]["details"])
    assert client.get("/api/v1/connections/hs/map/versions", headers=h).json["versions"] == []
    current = client.get("/api/v1/connections/hs/map", headers=h).json
    assert current["version"] is None and current["map"]["stages"]


def test_maps_are_versioned_with_author_and_comment(client, tokens, hubspot_conn):
    h = auth(tokens[0])
    res = client.put("/api/v1/connections/hs/map", headers=h,
                     json={"document": GOOD_MAP, "comment": "first cut", "author": "ana@x.example"})
    assert res.status_code == 201 and res.json["version"] == 1
    res = client.put("/api/v1/connections/hs/map", headers=h,
                     json={"map": client.get("/api/v1/connections/hs/map", headers=h).json["map"],
                           "comment": "same again"})
    assert res.json["version"] == 2
    versions = client.get("/api/v1/connections/hs/map/versions", headers=h).json["versions"]
    assert [(v["version"], v["comment"]) for v in versions] == [(2, "same again"), (1, "first cut")]
    assert versions[1]["author"] == "ana@x.example"
    doc = client.get("/api/v1/connections/hs/map/versions/1", headers=h).json["document"]
    assert "name: small" in doc
    assert client.get("/api/v1/connections/hs/map/versions/9", headers=h).status_code == 404


def test_validate_endpoint_saves_nothing(client, tokens, hubspot_conn):
    h = auth(tokens[0])
    before = len(client.get("/api/v1/connections/hs/map/versions", headers=h).json["versions"])
    assert client.post("/api/v1/maps/validate", headers=h, json={"document": GOOD_MAP}).json["valid"]
    assert client.post("/api/v1/maps/validate", headers=h,
                       json={"document": "stages: [\n"}).status_code == 422
    assert len(client.get("/api/v1/connections/hs/map/versions", headers=h).json["versions"]) == before


def test_sync_now_queues_a_run_for_the_worker(client, tokens, hubspot_conn):
    h = auth(tokens[0])
    res = client.post("/api/v1/connections/hs/sync", headers=h, json={"full": True})
    assert res.status_code == 202
    run = client.get(f"/api/v1/connections/hs/runs/{res.json['run_id']}", headers=h).json
    assert run["status"] == "queued" and run["full"] is True
    assert res.json["run_id"] in [r["id"] for r in
                                  client.get("/api/v1/connections/hs/runs", headers=h).json["runs"]]


def test_query_parameters_are_checked(client, tokens, hubspot_conn):
    h = auth(tokens[0])
    assert client.get("/api/v1/connections/hs/records?limit=abc", headers=h).status_code == 400
    assert client.get("/api/v1/connections/hs/records?stalled=maybe", headers=h).status_code == 400
    assert client.get("/api/v1/connections/hs/records?sort=zodiac", headers=h).status_code == 400
    assert client.get("/api/v1/connections/hs/outbox?status=lost", headers=h).status_code == 400
    assert client.post("/api/v1/connections/hs/outbox/retry", headers=h,
                       json={"ids": "all"}).status_code == 422


def test_session_callers_need_the_csrf_token_to_change_things(app, tokens, hubspot_conn, services):
    client = app.test_client()
    with services.session() as s:
        tenant_id = get_or_create_tenant(s, "tenant-a").id
    forge_signed_in(client, services, tenant_id)
    assert client.get("/api/v1/connections").status_code == 200
    res = client.post("/api/v1/connections/hs/sync", json={})
    assert res.status_code == 403 and res.json["error"]["code"] == "CSRF_FAILED"
    assert client.post("/api/v1/connections/hs/sync", json={},
                       headers={"X-CSRF-Token": "known-token"}).status_code == 202


def test_openapi_document_lists_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert "Error" in doc["components"]["schemas"]
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi_document":
            path = rule.rule[len("/api/v1"):].replace("<int:", "{").replace("<", "{").replace(">", "}")
            assert path in doc["paths"], path
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert method.lower() in doc["paths"][path]
    assert "requestBody" in doc["paths"]["/connections/{ref}/map"]["put"]


def test_deleted_connection_is_gone(client, tokens, make_hs_sandbox):
    h = auth(tokens[0])
    other = make_hs_sandbox({"portal_id": 4405})
    assert client.post("/api/v1/connections", headers=h, json={
        "name": "temp", "crm": "hubspot",
        "settings": sandbox_settings("hubspot", other.info())}).status_code == 201
    assert client.delete("/api/v1/connections/temp", headers=h).status_code == 204
    assert client.get("/api/v1/connections/temp", headers=h).status_code == 404


def test_a_signed_in_person_is_the_author_of_the_maps_they_save(app, hubspot_conn, services):
    client = app.test_client()
    with services.session() as s:
        tenant_id = get_or_create_tenant(s, "tenant-a").id
    forge_signed_in(client, services, tenant_id, csrf="t", email="ana@revops.example")
    res = client.put("/api/v1/connections/hs/map", headers={"X-CSRF-Token": "t"},
                     json={"document": GOOD_MAP, "comment": "mine", "author": "someone-else"})
    assert res.status_code == 201
    versions = client.get("/api/v1/connections/hs/map/versions").json["versions"]
    assert versions[0]["author"] == "ana@revops.example"
