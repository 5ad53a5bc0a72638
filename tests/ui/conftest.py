"""A small world for the page tests: a HubSpot sandbox, a synced connection, a tenant with a user
and an admin token, and the Flask app over it (driven with Flask's test client)."""
from __future__ import annotations

import copy
import re
from types import SimpleNamespace

import pytest

from connectors.hubspot.sandbox import HubSpotSandbox
from integration.app import create_app
from integration.connecting import connect
from integration.map_review import apply_map
from integration.sandboxes import sandbox_settings
from integration.services import build_services
from integration.store.db import upgrade
from integration.store.tenancy import create_user, get_or_create_tenant, issue_token
from integration.sync.engine import sync_connection
from mapping import default_map_text
from tests.fixtures_hubspot import HS_SEED
from tests.fixtures_store import make_settings

EMAIL, PASSWORD = "revops@acme.example", "correct horse battery"


def oauth_apps(sandbox: HubSpotSandbox) -> dict[str, dict[str, str]]:
    """The service's OAuth app settings for the sandbox (every name an OAuth spec may ask for)."""
    info = sandbox.info()
    return {"hubspot": {"client_id": info["client_id"], "client_secret": info["client_secret"],
                        "base_url": info["base_url"], "authorize_url": info["base_url"]}}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Namespace: app, services, sandbox, connection_id, token, other_connection_id; and two
    portals not connected yet (one account is connected once per workspace): ``oauth_sandbox``
    (the OAuth app's) and ``spare_sandbox`` (for pasted tokens)."""
    sandbox = HubSpotSandbox(copy.deepcopy(HS_SEED)).start()
    oauth_sandbox = HubSpotSandbox({**copy.deepcopy(HS_SEED), "portal_id": 70001}).start()
    spare_sandbox = HubSpotSandbox({**copy.deepcopy(HS_SEED), "portal_id": 70002}).start()
    data = tmp_path_factory.mktemp("ui")
    url = f"sqlite:///{data / 'journey.sqlite3'}"
    upgrade(url)
    settings = make_settings(url, data, oauth_apps=oauth_apps(oauth_sandbox), port=8765)
    services = build_services(settings)
    info = sandbox.info()
    with services.session() as db:
        tenant = get_or_create_tenant(db, "acme")
        token = issue_token(db, tenant.id)
        create_user(db, tenant.id, EMAIL, PASSWORD)
        conn = connect(db, services, tenant_id=tenant.id, name="hubspot-main", crm="hubspot",
                       values=sandbox_settings("hubspot", info))
        apply_map(db, conn.id, default_map_text(), author="setup", comment="Default map")
        other = get_or_create_tenant(db, "globex")
        foreign = connect(db, services, tenant_id=other.id, name="theirs", crm="hubspot",
                          values=sandbox_settings("hubspot", info))
        ids = conn.id, foreign.id
    sync_connection(services, ids[0], full=True, requested_by="test")
    app = create_app(settings, services)
    yield SimpleNamespace(app=app, services=services, sandbox=sandbox, connection_id=ids[0],
                          other_connection_id=ids[1], token=token, oauth_sandbox=oauth_sandbox,
                          spare_sandbox=spare_sandbox)
    for box in (sandbox, oauth_sandbox, spare_sandbox):
        box.stop()
    services.engine.dispose()


def page_csrf(html: str) -> str:
    """The CSRF token a page carries in its <meta> tag."""
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


@pytest.fixture()
def client(world):
    """A test client signed in as the web user; ``client.csrf`` is the session's token."""
    c = world.app.test_client()
    html = c.get("/sign-in").get_data(as_text=True)
    response = c.post("/sign-in", data={"email": EMAIL, "password": PASSWORD,
                                        "csrf_token": page_csrf(html)})
    assert response.status_code == 302, response.get_data(as_text=True)
    c.csrf = page_csrf(c.get("/").get_data(as_text=True))
    return c
