"""Records the map does not place, surfaced with their reason and fix, after a real sync of a
Salesforce sandbox under a map that leaves out a stage and the lead source: the unmapped page, the
records page's link, and the coverage report's counts agree with the stored records."""
from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlmodel import select

from integration.app import create_app
from integration.connecting import connect, provision
from integration.map_review import apply_map
from integration.store.models import RecordState
from integration.store.tenancy import create_user, get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from mapping import default_map_text, map_from_dict, map_to_dict, map_to_yaml, parse_map
from tests.sync.crms import small_book, start_crm
from tests.sync.test_bulk_tasks import csrf_of
from tests.support import records_count

EMAIL, PASSWORD = "revops@unmapped.example", "unmapped records"


def holey_map() -> str:
    """The default map without the Qualification stage and without a lead source."""
    data = map_to_dict(parse_map(default_map_text()))
    del data["sources"]["salesforce"]["opportunity"]["stages"]["Qualification"]
    del data["sources"]["salesforce"]["lead"]
    return map_to_yaml(map_from_dict(data))


@pytest.fixture(scope="module")
def world(services):
    crm = start_crm("salesforce", small_book(utcnow()))
    with services.session() as s:
        tenant = get_or_create_tenant(s, "unmapped")
        create_user(s, tenant.id, EMAIL, PASSWORD)
        conn = connect(s, services, tenant_id=tenant.id, name="sf-unmapped", crm="salesforce",
                       values=crm.settings())
        apply_map(s, conn.id, holey_map(), author="test", comment="holes")
        connection_id = conn.id
    provision(services, connection_id)
    assert sync_connection(services, connection_id).status == "succeeded"
    client = create_app(services.settings, services).test_client()
    html = client.get("/sign-in").get_data(as_text=True)
    assert client.post("/sign-in", data={"email": EMAIL, "password": PASSWORD,
                                         "csrf_token": csrf_of(html)}).status_code == 302
    yield connection_id, client
    crm.stop()


def stored_unmapped(services, connection_id):
    with services.session() as s:
        return list(s.exec(select(RecordState).where(RecordState.connection_id == connection_id,
                                                     RecordState.stage == "unmapped")))


def expected_counts(rows):
    """What each reason must count, from the stored records themselves."""
    reasons = Counter()
    for r in rows:
        if r.object == "lead":
            reasons["no_source"] += 1
        elif r.crm_stage is None:
            reasons["no_stage"] += 1  # contacts without an opportunity contact role
        else:
            assert r.crm_stage == "Qualification"
            reasons["stage_not_named"] += 1
    return reasons


def test_the_coverage_report_counts_unplaced_records_by_reason(services, world):
    connection_id, client = world
    rows = stored_unmapped(services, connection_id)
    expected = expected_counts(rows)
    assert all(expected[r] for r in ("no_source", "no_stage", "stage_not_named")), expected
    report = client.get(f"/api/v1/connections/{connection_id}/map/coverage").get_json()
    records = report["unmapped_records"]
    assert records["total"] == len(rows)
    assert records["by_reason"] == {"stage_not_named": expected["stage_not_named"],
                                    "no_stage": expected["no_stage"],
                                    "no_source": expected["no_source"], "named_since": 0}
    assert {g["crm_stage"] for g in records["groups"] if g["reason"] == "stage_not_named"} == {"Qualification"}
    assert "Qualification" in [s["value"] for s in report["unmapped"]]  # the CRM's stage too


def test_the_page_lists_each_reason_with_its_fix(services, world):
    connection_id, client = world
    html = client.get(f"/connections/{connection_id}/unmapped").get_data(as_text=True)
    total = len(stored_unmapped(services, connection_id))
    assert f"<strong>{total:,} record(s)</strong> are not on the map" in html
    rows = re.findall(r'<tr data-reason="([a-z_]+)">(.*?)</tr>', html, re.S)
    reasons = {reason for reason, _ in rows}
    assert reasons == {"no_source", "no_stage", "stage_not_named"}
    no_stage = next(body for reason, body in rows if reason == "no_stage")
    assert "no contact role on any opportunity" in no_stage and "Contact Roles" in no_stage
    assert "fix-link" not in no_stage  # fixed in Salesforce, not in the editor
    named = next(body for reason, body in rows if reason == "stage_not_named")
    assert "Qualification" in named and f'href="/connections/{connection_id}/map"' in named
    source = next(body for reason, body in rows if reason == "no_source")
    assert "sources.salesforce.lead" in source
    with services.session() as s:
        ownerless = Counter(r.object for r in s.exec(select(RecordState).where(
            RecordState.connection_id == connection_id, RecordState.owner_id.is_(None),
            RecordState.stage != "unmapped")))
    # the sandbox gives every Salesforce record an owner: no such section
    assert not ownerless and 'id="ownerless"' not in html


def test_the_records_page_links_to_them_and_lists_them(services, world):
    connection_id, client = world
    total = len(stored_unmapped(services, connection_id))
    page = client.get(f"/connections/{connection_id}/records").get_data(as_text=True)
    assert f"{total:,} record(s) are not on the map" in page
    listed = client.get(f"/connections/{connection_id}/records",
                        query_string={"stage": "unmapped"}).get_data(as_text=True)
    assert records_count(listed) == f"{total:,}" and "record(s) in <strong>Unmapped</strong>" in listed


def test_mapping_the_stage_empties_its_group_at_once(services, world):
    connection_id, client = world
    with services.session() as s:
        apply_map(s, connection_id, default_map_text(), author="test", comment="holes filled")
    report = client.get(f"/api/v1/connections/{connection_id}/map/coverage").get_json()
    # the reason follows the map in force before any sync: the stage and the leads are named now
    by_reason = report["unmapped_records"]["by_reason"]
    assert by_reason["stage_not_named"] == by_reason["no_source"] == 0
    assert by_reason["named_since"] > 0 and by_reason["no_stage"] > 0
    html = client.get(f"/connections/{connection_id}/unmapped").get_data(as_text=True)
    assert "the next sync places them" in html
    assert sync_connection(services, connection_id).status == "succeeded"
    after = client.get(f"/api/v1/connections/{connection_id}/map/coverage").get_json()
    assert after["unmapped_records"]["by_reason"] == {"stage_not_named": 0, "no_source": 0,
                                                      "named_since": 0, "no_stage": by_reason["no_stage"]}
