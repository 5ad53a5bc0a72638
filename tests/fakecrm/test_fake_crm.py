"""A CRM added as a plug-in from the tests package, driven through install, sync, webhook and
card by the unchanged service: adding a CRM is a new folder plus one registry call."""
from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from connectors import registry
from integration.app import create_app
from integration.cli import main as journey
from integration.notification_urls import notification_url
from integration.sandboxes import SandboxControl, make_sandbox, sandbox_crms, sandbox_settings
from integration.services import build_services
from integration.store.db import upgrade
from integration.store.records import take_queued
from integration.store.tenancy import create_user, get_or_create_tenant, issue_token
from integration.sync.engine import sync_connection
from integration.worker import Worker
from tests.fakecrm.plugin import SPEC
from tests.fakecrm.sandbox import sign
from tests.fixtures_store import make_settings

EMAIL, PASSWORD = "ops@fake.example", "a long enough password"


def _seed() -> dict:
    start = datetime.now(timezone.utc) - timedelta(days=40)
    tickets = []
    for i, status in enumerate(["new", "open", "pending", "open", "solved", "dropped", "new"]):
        at = (start + timedelta(days=i)).isoformat()
        tickets.append({"id": f"T{i}", "subject": f"Ticket {i}", "status": status, "createdAt": at,
                        "updatedAt": at, "history": [{"status": status, "at": at}]})
    return {"fakecrm": {"account_id": "acct-42", "tickets": tickets}}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The fake plug-in registered, its sandbox, and the service live on a free port."""
    registry.register(SPEC)
    sandbox = make_sandbox("fakecrm", seed=_seed()).start()
    data = tmp_path_factory.mktemp("fakecrm")
    url = f"sqlite:///{data / 'journey.sqlite3'}"
    upgrade(url)
    services = build_services(make_settings(url, data))
    with services.session() as db:
        tenant = get_or_create_tenant(db, "fake")
        token = issue_token(db, tenant.id)
        create_user(db, tenant.id, EMAIL, PASSWORD)
    app = create_app(services.settings, services)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"app": app, "services": services, "sandbox": sandbox, "token": token,
           "base_url": f"http://127.0.0.1:{server.server_port}"}
    server.shutdown()
    sandbox.stop()
    services.engine.dispose()
    registry.unregister("fakecrm")


def _api(world):
    client = world["app"].test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {world['token']}"
    return client


def test_the_registry_the_cli_and_the_install_form_know_the_plugin(world):
    assert "fakecrm" in registry.names() and "fakecrm" in sandbox_crms()
    crms = _api(world).get("/api/v1/crms").get_json()
    assert "fakecrm" in str(crms)
    help_text = CliRunner().invoke(journey, ["connect", "fakecrm", "--help"]).output
    assert "--api-token" in help_text and "--webhook-secret" in help_text
    page = world["app"].test_client()
    html = page.get("/sign-in").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    page.post("/sign-in", data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf})
    install = page.get("/install").get_data(as_text=True)
    assert 'id="install-fakecrm"' in install and 'name="setting.api_token"' in install


def test_install_sync_webhook_and_card_through_the_service(world):
    api, sandbox = _api(world), world["sandbox"]
    info = sandbox.info()
    bad = api.post("/api/v1/connections", json={"name": "fake", "crm": "fakecrm",
                                                 "settings": {"base_url": info["base_url"]}})
    assert bad.status_code == 422 and "settings.api_token" in bad.get_json()["error"]["details"]
    created = api.post("/api/v1/connections", json={
        "name": "fake", "crm": "fakecrm", "settings": sandbox_settings("fakecrm", info)})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["account_id"] == info["account_id"]  # asked of the CRM
    conn_id = created.get_json()["id"]
    assert api.post("/api/v1/connections/fake/provision").status_code == 200

    # Sync: every ticket placed on the map (the plug-in's map sources) and written back.
    SandboxControl("fakecrm", sandbox).faults(error_share=0.0)
    summary = sync_connection(world["services"], conn_id, full=True)
    assert (summary.status, summary.read, summary.unmapped) == ("succeeded", 7, 0)
    assert summary.written == 7 and summary.stages["decision"] == 1
    assert sandbox.tickets["T2"]["journey"]["journey_stage"] == "decision"
    records = api.get("/api/v1/connections/fake/records?object=ticket").get_json()["records"]
    assert {r["id"] for r in records} == {f"T{i}" for i in range(7)}
    again = sync_connection(world["services"], conn_id)
    assert again.written == 0  # what the CRM holds now matches: no echo

    # Webhook: a rep moves a ticket; the sandbox's signed webhook queues it, the worker syncs it.
    control = SandboxControl("fakecrm", sandbox)
    control.subscribe(notification_url(world["services"].settings, "fakecrm", conn_id, world["base_url"]))
    control.move("ticket", "T0", "solved")
    delivery = sandbox.deliveries[-1]
    assert delivery["status"] == 200
    Worker(world["services"]).tick()
    assert sandbox.tickets["T0"]["journey"]["journey_stage"] == "purchase"
    forged = api.post("/webhooks/fakecrm", data=b'{"account": "acct-42", "events": []}')
    assert forged.status_code == 200  # nothing to queue, nothing to verify
    forged = api.post("/webhooks/fakecrm", headers={"X-Fake-Signature": "0" * 64},
                      data=b'{"account": "acct-42", "events": [{"deliveryId": "x", "ticket": "T1"}]}')
    assert forged.status_code == 401 and forged.get_json()["error"]["code"] == "BAD_SIGNATURE"
    body = b'{"account": "acct-42", "events": [{"deliveryId": "d1", "ticket": "T1"}]}'
    headers = {"X-Fake-Signature": sign(info["webhook_secret"], body)}
    assert api.post("/webhooks/fakecrm", data=body, headers=headers).get_json() == {
        "queued": 1, "duplicates": 0}
    assert api.post("/webhooks/fakecrm", data=body, headers=headers).get_json()["duplicates"] == 1
    with world["services"].session() as db:
        assert [(r.object, r.crm_id) for r in take_queued(db, conn_id)] == [("ticket", "T1")]

    # Card: the same journey view the API serves, to signed requests only.
    url = f"{world['base_url']}/cards/fakecrm/ticket/T0?account=acct-42"
    card = api.get(url, base_url=world["base_url"],
                   headers={"X-Fake-Signature": sign(info["webhook_secret"], url.encode())})
    assert card.status_code == 200, card.get_data(as_text=True)
    view = card.get_json()
    assert (view["stage"], view["position"], view["of"]) == ("purchase", 4, 7)
    assert view == api.get("/api/v1/connections/fake/records/ticket/T0").get_json()
    assert api.get(url, base_url=world["base_url"]).status_code == 401
    assert api.get("/cards/fakecrm/invoice/T0?account=acct-42").status_code == 404
