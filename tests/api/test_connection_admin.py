"""Connections are what the CRM says they are, on SQLite and PostgreSQL: credentials checked with
one call before saving, the account id from the CRM, one connection per account and workspace,
reconnect, pause and resume through the API."""
from __future__ import annotations

import pytest
from sqlmodel import select

from integration.app import create_app
from integration.sandboxes import sandbox_settings
from integration.store.models import Connection
from integration.store.tenancy import get_or_create_tenant, issue_token
from integration.worker import Worker


@pytest.fixture(scope="module")
def app(services):
    return create_app(services.settings, services)


@pytest.fixture(scope="module")
def heads(services):
    with services.session() as s:
        return ({"Authorization": f"Bearer {issue_token(s, get_or_create_tenant(s, 'adm-a').id)}"},
                {"Authorization": f"Bearer {issue_token(s, get_or_create_tenant(s, 'adm-b').id)}"})


@pytest.fixture(scope="module")
def portals(make_hs_sandbox):
    """Two HubSpot portals: settings of each."""
    return [sandbox_settings("hubspot", make_hs_sandbox({"portal_id": p}).info())
            for p in (51001, 51002)]


@pytest.fixture()
def client(app):
    return app.test_client()


def create(client, head, name, settings, **extra):
    return client.post("/api/v1/connections", headers=head,
                       json={"name": name, "crm": "hubspot", "settings": settings, **extra})


def names(client, head):
    return [c["name"] for c in client.get("/api/v1/connections", headers=head).json["connections"]]


def test_refused_credentials_are_a_plain_422_and_nothing_is_saved(client, heads, portals):
    res = create(client, heads[0], "bad-token", {**portals[0], "access_token": "revoked",
                                                 "refresh_token": "revoked"})
    assert res.status_code == 422
    assert res.json["error"]["code"] == "CREDENTIALS_REFUSED"
    assert res.json["error"]["message"].startswith(
        "HubSpot refused the credentials: the token is expired, revoked or wrong")
    res = client.post("/api/v1/connections", headers=heads[0], json={
        "name": "plain-http", "crm": "salesforce",
        "settings": {"instance_url": "http://org.example", "access_token": "t"}})
    assert res.status_code == 422
    assert "https://" in str(res.json["error"]["details"]["settings.instance_url"])
    assert "bad-token" not in names(client, heads[0])
    assert "plain-http" not in names(client, heads[0])


def test_the_account_id_comes_from_the_crm_never_from_the_caller(client, heads, portals):
    res = create(client, heads[0], "spoof", portals[0], account_id="00Dsomeone-elses-org")
    assert res.status_code == 422 and "account_id" in res.json["error"]["details"]
    res = create(client, heads[0], "hs-one", portals[0])
    assert res.status_code == 201 and res.json["account_id"] == "51001"
    assert res.json["standing"]["text"] == "Active."
    res = client.patch("/api/v1/connections/hs-one", headers=heads[0],
                       json={"account_id": "51002"})
    assert res.status_code == 422


def test_one_account_is_connected_once_per_workspace(client, heads, portals):
    res = create(client, heads[0], "hs-one-again", portals[0])
    assert res.status_code == 409 and res.json["error"]["code"] == "ALREADY_CONNECTED"
    assert "'hs-one'" in res.json["error"]["message"] and "51001" in res.json["error"]["message"]
    # Another workspace may connect the same portal.
    assert create(client, heads[1], "theirs", portals[0]).status_code == 201


def test_reconnect_checks_the_new_credentials_and_keeps_the_account(client, heads, portals,
                                                                     services):
    h = heads[0]
    res = client.patch("/api/v1/connections/hs-one", headers=h,
                       json={"settings": {"access_token": "revoked", "refresh_token": "revoked"}})
    assert res.status_code == 422 and res.json["error"]["code"] == "CREDENTIALS_REFUSED"
    res = client.patch("/api/v1/connections/hs-one", headers=h, json={"settings": portals[1]})
    assert res.status_code == 422 and res.json["error"]["code"] == "OTHER_ACCOUNT"
    assert "51002" in res.json["error"]["message"]
    with services.session() as s:
        conn = s.exec(select(Connection).where(Connection.name == "hs-one")).one()
        conn.state, conn.state_reason = "needs_reconnect", "HubSpot refused the connection."
        s.add(conn)
    shown = client.get("/api/v1/connections/hs-one", headers=h).json
    assert shown["state"] == "needs_reconnect"
    assert shown["standing"]["text"].startswith("Needs reconnecting")
    assert client.post("/api/v1/connections/hs-one/sync", headers=h, json={}).status_code == 409
    res = client.patch("/api/v1/connections/hs-one", headers=h, json={"paused": False})
    assert res.status_code == 409 and res.json["error"]["code"] == "NEEDS_RECONNECT"
    res = client.patch("/api/v1/connections/hs-one", headers=h,
                       json={"settings": {"access_token": portals[0]["access_token"]}})
    assert res.status_code == 200
    assert res.json["state"] == "active" and res.json["account_id"] == "51001"


def test_pause_and_resume(client, heads, services):
    h = heads[0]
    res = client.patch("/api/v1/connections/hs-one", headers=h, json={"paused": True})
    assert res.status_code == 200 and res.json["state"] == "paused"
    assert res.json["standing"]["text"].startswith("Paused")
    res = client.post("/api/v1/connections/hs-one/sync", headers=h, json={})
    assert res.status_code == 409 and res.json["error"]["code"] == "PAUSED"
    conn_id = client.get("/api/v1/connections/hs-one", headers=h).json["id"]
    worker = Worker(services, owner="admin-tests")
    assert not [line for line in worker.tick() if line.startswith(f"sync {conn_id}:")]
    res = client.patch("/api/v1/connections/hs-one", headers=h, json={"paused": False})
    assert res.status_code == 200 and res.json["state"] == "active"
    assert any(line.startswith(f"sync {conn_id}:") for line in worker.tick())
    worker.close()
    res = client.patch("/api/v1/connections/hs-one", headers=h, json={"paused": "yes"})
    assert res.status_code == 422 and "paused" in res.json["error"]["details"]


def test_the_openapi_document_describes_reconnect_pause_and_resume(client):
    doc = client.get("/api/v1/openapi.json").json
    body = doc["paths"]["/connections/{ref}"]["patch"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert {"settings", "paused", "sync_interval_seconds"} <= set(body["properties"])
    assert "delete" in doc["paths"]["/connections/{ref}"]
    create_body = doc["paths"]["/connections"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert "account_id" not in create_body["properties"]
