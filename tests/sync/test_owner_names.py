"""Owner names, per CRM: the sync asks the CRM (HubSpot owners API, Salesforce ``User``) for the
names of the owners records hold, once per new owner, and the API, its CSV export and the pages
show them."""
from __future__ import annotations

import csv
import io

import pytest

from integration.app import create_app
from integration.connecting import connect, provision
from integration.demo.seed import REPS
from integration.store.owners import owner_names
from integration.store.tenancy import get_or_create_tenant, issue_token
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from tests.sync.crms import small_book, start_crm

#: Records the demo book leaves unassigned belong to the connected (integration) user.
NAMES = {f"{first} {last}" for first, last in REPS} | {"Journey Sync Integration"}


@pytest.fixture(scope="module", params=["salesforce", "hubspot"])
def world(request, services):
    crm = start_crm(request.param, small_book(utcnow()))
    with services.session() as s:
        tenant = get_or_create_tenant(s, f"owners-{request.param}")
        conn = connect(s, services, tenant_id=tenant.id, name=f"owners-{request.param}",
                       crm=request.param, values=crm.settings())
        connection_id, token = conn.id, issue_token(s, tenant.id)
    provision(services, connection_id)
    first = sync_connection(services, connection_id)
    assert first.status == "succeeded", first.message
    yield crm, connection_id, token, first
    crm.stop()


def test_the_first_sync_stores_the_crms_names_of_the_owners(services, world):
    _, connection_id, _, first = world
    with services.session() as s:
        names = owner_names(s, connection_id)
    assert set(names.values()) <= NAMES and len(names) >= 3
    route = "GET /crm/v3/owners/" if "GET /crm/v3/owners/" in first.calls_by_route else "GET query/"
    assert route in first.calls_by_route


def test_known_owners_are_not_asked_for_again(services, world):
    crm, connection_id, _, _ = world
    again = sync_connection(services, connection_id)
    assert "GET /crm/v3/owners/" not in again.calls_by_route
    assert again.api_calls <= world[3].api_calls


def test_the_api_and_its_csv_export_name_the_owners(services, world):
    _, connection_id, token, _ = world
    client = create_app(services.settings, services).test_client()
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get(f"/api/v1/connections/{connection_id}/records?limit=50", headers=headers).get_json()
    owned = [r for r in listed["records"] if r["owner_id"]]
    assert owned and all(r["owner_name"] in NAMES for r in owned)
    one = client.get(f"/api/v1/connections/{connection_id}/records/{owned[0]['object']}/{owned[0]['id']}",
                     headers=headers).get_json()
    assert one["owner_name"] == owned[0]["owner_name"]
    exported = client.get(f"/api/v1/connections/{connection_id}/records?limit=50&format=csv", headers=headers)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    # the export holds every matching record (not a page), in the same order
    assert [r["id"] for r in rows][:50] == [r["id"] for r in listed["records"]]
    assert {r["owner_name"] for r in rows if r["owner_id"]} <= NAMES
    stalled = client.get(f"/api/v1/connections/{connection_id}/analytics/stalled", headers=headers).get_json()
    assert set(stalled["owner_names"]) == set(stalled["by_owner"]) - {"(none)"}
    bad = client.get(f"/api/v1/connections/{connection_id}/records?format=xml", headers=headers)
    assert bad.status_code == 400
