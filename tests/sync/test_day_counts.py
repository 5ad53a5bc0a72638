"""Days in stage and days over expected as HubSpot number properties a list can filter on
("stalled by more than 30 days"), read back through hubspot-api-client: provisioned as numbers,
equal to the service's own counts, written again only when a whole-day value changes (the stall
pass, in batches of 100), given by the stall pass to records stored without them (synced by an
older version), and never to a record in an exit."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hubspot import HubSpot
from hubspot.crm.deals import PublicObjectSearchRequest
from sqlmodel import select

from integration.connecting import connect, provision
from integration.store.models import Connection, RecordState
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from integration.sync.flush import flush_outbox
from integration.sync.reevaluate import reevaluate
from tests.sync.crms import small_book, start_crm

DAYS = {"days_in_stage": "journey_days_in_stage", "days_over_expected": "journey_days_over_expected"}


@pytest.fixture(scope="module")
def world(services):
    crm = start_crm("hubspot", small_book(utcnow()))
    with services.session() as s:
        tenant = get_or_create_tenant(s, "day-counts")
        conn = connect(s, services, tenant_id=tenant.id, name="day-counts", crm="hubspot", values=crm.settings())
        connection_id = conn.id
    provision(services, connection_id)
    first = sync_connection(services, connection_id)
    assert first.status == "succeeded", (first.message, first.errors)
    yield crm, connection_id
    crm.stop()


def client(crm) -> HubSpot:
    return HubSpot(access_token=crm.info["access_token"], host=crm.info["base_url"])


def held(crm) -> dict[tuple[str, str], tuple[int | None, int | None]]:
    """Every deal's and contact's two day counts as hubspot-api-client reads them."""
    out = {}
    for obj, api in (("deal", client(crm).crm.deals), ("contact", client(crm).crm.contacts)):
        for record in api.get_all(properties=list(DAYS.values())):
            out[(obj, record.id)] = tuple(None if record.properties.get(p) in (None, "")
                                          else int(record.properties[p]) for p in DAYS.values())
    return out


def expected(services, connection_id) -> dict[tuple[str, str], tuple[int | None, int | None]]:
    """The service's counts: whole days in the stage and over its expected days; none in an exit."""
    with services.session() as s:
        rows = list(s.exec(select(RecordState).where(RecordState.connection_id == connection_id)))
    return {(r.object, r.crm_id): (None, None) if r.state["is_exit"]
            else (r.state["days_in_stage"], r.state["days_over"]) for r in rows if not r.state["unmapped"]}


def over_30_days(crm) -> set[tuple[str, str]]:
    """The deals a HubSpot list "Journey days over expected is greater than 30" holds (its search)."""
    found, after = set(), None
    while True:
        search = PublicObjectSearchRequest(filter_groups=[{"filters": [
            {"propertyName": DAYS["days_over_expected"], "operator": "GT", "value": "30"}]}],
            limit=100, after=after)
        page = client(crm).crm.deals.search_api.do_search(public_object_search_request=search)
        found |= {("deal", d.id) for d in page.results}
        if not page.paging or not page.paging.next:
            return found
        after = page.paging.next.after


def test_day_counts_are_number_properties_in_the_journey_group(world):
    crm, _ = world
    for path in ("deals", "contacts"):
        for name in DAYS.values():
            prop = client(crm).crm.properties.core_api.get_by_name(path, name)
            assert (prop.type, prop.field_type, prop.group_name) == ("number", "number", "journey")


def test_each_record_holds_the_services_counts_and_a_list_finds_the_long_stalled(world, services):
    crm, connection_id = world
    want = expected(services, connection_id)
    have = held(crm)
    assert {key: have[key] for key in want} == want
    long_stalled = {key for key, (_, over) in want.items() if key[0] == "deal" and over is not None and over > 30}
    assert long_stalled, "the demo book has deals stalled for more than 30 days"
    assert any(days is None for days, _ in want.values()), "the demo book has records in an exit"
    assert over_30_days(crm) == long_stalled


def test_counts_are_written_again_only_when_a_whole_day_has_passed(world, services):
    crm, connection_id = world
    again = sync_connection(services, connection_id)
    assert (again.status, again.written) == ("succeeded", 0)
    tomorrow = utcnow() + timedelta(days=1)
    result = reevaluate(services, connection_id, now=tomorrow)
    counting = {key for key, (days, _) in expected(services, connection_id).items() if days is not None}
    assert result.queued == len(counting)
    with services.session() as s:
        connector = services.open_connector(s.get(Connection, connection_id))
    _flush_writes_exactly(crm, services, connection_id, connector, counting)
    assert reevaluate(services, connection_id, now=tomorrow).queued == 0


def test_the_stall_pass_gives_counts_to_records_stored_without_them(world, services):
    crm, connection_id = world
    tomorrow = utcnow() + timedelta(days=1)
    with services.session() as s:
        connector = services.open_connector(s.get(Connection, connection_id))
    reevaluate(services, connection_id, now=tomorrow)  # whatever a day's turn still moves
    flush_outbox(services, connection_id, connector)
    counting = {key for key, (days, _) in expected(services, connection_id).items() if days is not None}
    # An older version synced these records: it neither read nor wrote their day counts.
    with services.session() as s:
        for row in s.exec(select(RecordState).where(RecordState.connection_id == connection_id)):
            row.crm_values = {k: v for k, v in row.crm_values.items() if k not in DAYS}
            s.add(row)
    for obj, api in (("deal", client(crm).crm.deals), ("contact", client(crm).crm.contacts)):
        ids = sorted(crm_id for kind, crm_id in counting if kind == obj)
        for start in range(0, len(ids), 100):
            api.batch_api.update({"inputs": [{"id": i, "properties": dict.fromkeys(DAYS.values(), "")}
                                             for i in ids[start:start + 100]]})
    assert not any(have != (None, None) for key, have in held(crm).items() if key in counting)

    result = reevaluate(services, connection_id, now=tomorrow)
    assert result.queued == len(counting)  # every one, though no whole day passed
    _flush_writes_exactly(crm, services, connection_id, connector, counting)
    assert reevaluate(services, connection_id, now=tomorrow).queued == 0


def _flush_writes_exactly(crm, services, connection_id, connector, counting) -> None:
    """Flushing the outbox writes the ``counting`` records' day counts in the fewest batch updates
    (100 a call, per object), and HubSpot then holds what the service expects."""
    before = crm.calls()["by_route"]
    flushed = flush_outbox(services, connection_id, connector)
    assert (flushed.written, flushed.failed) == (len(counting), 0)
    batches = sum(n - before.get(route, 0) for route, n in crm.calls()["by_route"].items() if "batch/update" in route)
    deals = sum(1 for obj, _ in counting if obj == "deal")
    assert batches == -(-deals // 100) + -(-(len(counting) - deals) // 100)
    want = expected(services, connection_id)
    have = held(crm)
    assert {key: have[key] for key in want} == want
