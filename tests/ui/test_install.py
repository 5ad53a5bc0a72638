"""Install: paste-a-token connections and the OAuth flow against the HubSpot sandbox."""
from __future__ import annotations

from html import escape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors import registry
from integration.store.connections import get_connection
from integration.store.tenancy import get_or_create_tenant, tenant_for_token
from tests.support import forge_signed_in


def stored_connection(world, name):
    with world.services.session() as db:
        tenant_id = tenant_for_token(db, world.token)
        conn = get_connection(db, tenant_id, name)
        db.expunge(conn)
        return conn


def connection_names(client):
    return {c["name"] for c in client.get("/api/v1/connections").get_json()["connections"]}


def test_install_page_offers_every_crm_with_its_settings(client):
    html = client.get("/install").get_data(as_text=True)
    for name in registry.names():
        spec = registry.spec(name)
        assert f'id="install-{name}"' in html
        for setting in spec.settings:
            assert f'name="setting.{setting.name}"' in html
            assert escape(setting.label) in html


def test_token_install_with_a_missing_setting_names_it_and_stores_nothing(client):
    response = client.post("/install/hubspot/token", data={
        "csrf_token": client.csrf, "name": "incomplete"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'name="setting.access_token"' in html and "required" in html
    assert "incomplete" not in connection_names(client)


def test_token_install_stores_the_connection_with_its_token_encrypted(client, world):
    info = world.spare_sandbox.info()
    response = client.post("/install/hubspot/token", data={
        "csrf_token": client.csrf, "name": "pasted", "setting.base_url": info["base_url"],
        "setting.access_token": info["private_app_token"]})
    assert response.status_code == 302 and response.headers["Location"].endswith("/setup")
    conn = stored_connection(world, "pasted")
    assert conn.settings["base_url"] == info["base_url"]
    assert "access_token" not in conn.settings
    assert info["private_app_token"] not in conn.secrets
    again = client.post("/install/hubspot/token", data={
        "csrf_token": client.csrf, "name": "pasted", "setting.base_url": info["base_url"],
        "setting.access_token": info["private_app_token"]})
    assert again.status_code == 409
    assert "already connected as &#39;pasted&#39;" in again.get_data(as_text=True)


def test_token_install_says_when_the_crm_refuses_the_token(client, world):
    response = client.post("/install/hubspot/token", data={
        "csrf_token": client.csrf, "name": "refused",
        "setting.base_url": world.spare_sandbox.info()["base_url"],
        "setting.access_token": "pat-na1-revoked"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "HubSpot refused the credentials: the token is expired, revoked or wrong" in html
    assert "refused" not in connection_names(client)


def test_token_install_needs_the_csrf_token(client, world):
    response = client.post("/install/hubspot/token", data={
        "name": "forged", "setting.access_token": "x"})
    assert response.status_code == 400
    assert "forged" not in connection_names(client)


def consent(client, name):
    """Start the OAuth install and follow the sandbox's consent page; (callback path, query)."""
    start = client.post("/install/hubspot/oauth", data={"csrf_token": client.csrf, "name": name})
    assert start.status_code == 302, start.get_data(as_text=True)
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    return back.path, parse_qs(back.query)


@pytest.fixture()
def oauth_ready():
    if registry.spec("hubspot").oauth is None:
        pytest.fail("connectors.hubspot SPEC.oauth is not wired: the OAuth install cannot run")


def test_oauth_install_connects_the_portal(client, world, oauth_ready):
    path, query = consent(client, "through-oauth")
    assert path == "/install/hubspot/callback"
    done = client.get(path, query_string={"code": query["code"][0], "state": query["state"][0]})
    assert done.status_code == 302, done.get_data(as_text=True)
    conn = stored_connection(world, "through-oauth")
    assert conn.account_id == str(world.oauth_sandbox.info()["portal_id"])
    assert done.headers["Location"].endswith(f"/connections/{conn.id}/setup")
    replay = client.get(path, query_string={"code": query["code"][0], "state": query["state"][0]})
    assert replay.status_code == 400
    assert "state does not match" in replay.get_data(as_text=True)


def test_oauth_callback_with_a_forged_state_is_refused(client, oauth_ready):
    path, query = consent(client, "forged-state")
    response = client.get(path, query_string={"code": query["code"][0], "state": "forged"})
    assert response.status_code == 400
    assert "state does not match" in response.get_data(as_text=True)
    assert "forged-state" not in connection_names(client)


def test_oauth_code_the_crm_refuses_is_reported(client, oauth_ready):
    path, query = consent(client, "bad-code")
    response = client.get(path, query_string={"code": "not-a-code", "state": query["state"][0]})
    assert response.status_code == 400
    assert "refused the authorization code" in response.get_data(as_text=True)
    assert "bad-code" not in connection_names(client)


def test_oauth_install_under_a_taken_name_is_reported(client, oauth_ready):
    path, query = consent(client, "hubspot-main")
    response = client.get(path, query_string={"code": query["code"][0], "state": query["state"][0]})
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)


def test_oauth_state_is_bound_to_the_session_that_started_it(client, world, oauth_ready):
    path, query = consent(client, "other-browser")
    stranger = world.app.test_client()
    with world.services.session() as db:
        other_tenant = get_or_create_tenant(db, "other-browser-tenant").id
    forge_signed_in(stranger, world.services, other_tenant, csrf="x")
    response = stranger.get(path, query_string={"code": query["code"][0],
                                                "state": query["state"][0]})
    assert response.status_code == 400
    assert "other-browser" not in connection_names(client)


def test_setup_page_offers_provisioning_and_the_interval(client, world):
    html = client.get(f"/connections/{world.connection_id}/setup").get_data(as_text=True)
    assert f'data-url="/api/v1/connections/{world.connection_id}/provision"' in html
    assert 'name="sync_interval_seconds"' in html
