"""API calls a sync spends, counted by the sandboxes: the echo of our own write-back is read once at
the largest page size, a quiet sync makes at most 3 calls and reads nothing twice, CRM metadata is
kept between syncs and processes. Tests build on each other in file order."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlmodel import select

from connectors.salesforce.pull import Cursor
from integration.connecting import connect, provision
from integration.map_review import apply_map
from integration.services import build_services
from integration.store.models import ConnectorCache, JourneyEvent, RecordState
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync import engine
from integration.sync.engine import sync_connection
from mapping import default_map_text
from tests.sync.crms import SandboxCrm, small_book, start_crm

#: CRM -> records per read page at most, and the routes that read metadata.
PAGE = {"salesforce": 2000, "hubspot": 200}
METADATA = {"salesforce": ("POST composite sobjects/describe",),
            "hubspot": ("GET /crm/v3/pipelines/deals", "GET /crm/v3/properties/contacts/lifecyclestage")}
#: CRM -> the metadata its first sync reads: Salesforce provisioning read the describes after its
#: grants, so none; HubSpot's listing of the contact properties gave the lifecycle stages, so only
#: the pipelines are read.
FIRST_SYNC_METADATA = {"salesforce": set(), "hubspot": {"GET /crm/v3/pipelines/deals"}}
MOVES = {"salesforce": ("opportunity", "Closed Won"), "hubspot": ("deal", "closedwon")}
UTC = timezone.utc


@dataclass
class World:
    crm: SandboxCrm
    connection_id: int
    first: object


def _settle() -> None:
    """Let the second of our last write pass: Salesforce stamps are whole seconds."""
    time.sleep(1.1)


@pytest.fixture(scope="module", params=["salesforce", "hubspot"])
def world(request, services):
    crm = start_crm(request.param, small_book(utcnow()))
    with services.session() as s:
        tenant = get_or_create_tenant(s, f"calls-{request.param}")
        conn = connect(s, services, tenant_id=tenant.id, name=f"calls-{request.param}",
                       crm=request.param, values=crm.settings())
        apply_map(s, conn.id, default_map_text(), author="test")
        connection_id = conn.id
    provision(services, connection_id)
    first = sync_connection(services, connection_id)
    yield World(crm, connection_id, first)
    crm.stop()


def _stored_rows(services, world):
    """Each stored state's and journey event's id with when it was last written."""
    with services.session() as s:
        states = set(s.exec(select(RecordState.id, RecordState.updated_at).where(
            RecordState.connection_id == world.connection_id)))
        events = set(s.exec(select(JourneyEvent.id).where(
            JourneyEvent.connection_id == world.connection_id)))
    return states, events


def _counting_people_passes(monkeypatch) -> list:
    """The people passes the engine runs from now on (each still runs)."""
    passes: list = []
    real = engine.people_pass

    def counted(*args, **kwargs):
        passes.append(args)
        return real(*args, **kwargs)
    monkeypatch.setattr(engine, "people_pass", counted)
    return passes


def test_the_first_sync_reads_no_metadata_provisioning_already_listed(world):
    metadata = set(world.first.calls_by_route) & set(METADATA[world.crm.crm])
    assert metadata == FIRST_SYNC_METADATA[world.crm.crm]
    assert all(world.first.calls_by_route[route] == 1 for route in metadata), world.first.calls_by_route


def test_the_echo_of_our_write_back_is_read_once_at_the_largest_page_size(services, world,
                                                                          monkeypatch):
    assert world.first.status == "succeeded" and world.first.written > 200
    before = _stored_rows(services, world)
    _settle()
    passes = _counting_people_passes(monkeypatch)
    echo = sync_connection(services, world.connection_id)
    assert echo.status == "succeeded"
    assert (echo.changed, echo.written) == (0, 0)
    # every record we wrote comes back once, nothing else is read, and no history is re-read
    assert echo.read == world.first.written
    assert echo.api_calls <= math.ceil(echo.read / PAGE[world.crm.crm]) + 3, echo.calls_by_route
    assert not set(echo.calls_by_route) & set(METADATA[world.crm.crm])
    # nothing the journey depends on changed: no state or event row is written again, and no
    # person can have moved, so the people pass does not run
    assert _stored_rows(services, world) == before
    assert (echo.stored, passes) == (0, [])


def test_a_quiet_sync_makes_at_most_three_calls_and_reads_nothing_twice(services, world):
    _settle()
    quiet = sync_connection(services, world.connection_id)
    assert quiet.status == "succeeded"
    assert quiet.api_calls <= 3, quiet.calls_by_route
    # HubSpot's pull finds the echo again inside its overlap (search index lag) and drops it
    assert quiet.read == 0


def test_a_change_is_read_exactly_once(services, world, monkeypatch):
    object_, stage = MOVES[world.crm.crm]
    with services.session() as s:
        row = s.exec(select(RecordState).where(RecordState.connection_id == world.connection_id,
                                               RecordState.object == object_,
                                               RecordState.crm_stage != stage)).first()
    world.crm.move(object_, row.crm_id, stage)
    _settle()
    passes = _counting_people_passes(monkeypatch)
    moved = sync_connection(services, world.connection_id)
    assert moved.changed >= 1 and moved.written >= 1
    assert moved.stored >= 1 and len(passes) == 1  # a stored change may move a person
    # the record (and in Salesforce the contacts that follow it); HubSpot's overlap brings
    # records the last pull read again, and the cursor drops them
    assert 1 <= moved.read <= 5
    with services.session() as s:
        assert s.get(RecordState, row.id).crm_stage == stage
    _settle()
    echo = sync_connection(services, world.connection_id)
    assert echo.api_calls <= 3 and echo.written == 0
    _settle()
    after = sync_connection(services, world.connection_id)
    assert after.api_calls <= 3 and after.read == 0


def test_metadata_is_kept_between_processes_and_expires(services, world):
    other_process = build_services(services.settings)
    try:
        again = sync_connection(other_process, world.connection_id)
        assert not set(again.calls_by_route) & set(METADATA[world.crm.crm])
        with services.session() as s:
            s.execute(update(ConnectorCache).where(ConnectorCache.connection_id == world.connection_id)
                      .values(expires_at=utcnow() - timedelta(seconds=1)))
        expired = sync_connection(other_process, world.connection_id)
        assert set(METADATA[world.crm.crm]) <= set(expired.calls_by_route)
    finally:
        other_process.engine.dispose()


@pytest.mark.parametrize("world", ["salesforce"], indirect=True)  # HubSpot's cache holds stage lists
def test_provisioning_replaces_the_cached_describes(services, world):
    with services.session() as s:
        s.execute(update(ConnectorCache).where(ConnectorCache.connection_id == world.connection_id)
                  .values(value={"value": ["Id"]}, expires_at=utcnow() + timedelta(hours=1)))
    provision(services, world.connection_id)
    with services.session() as s:
        kept = {row.key: row.value["value"] for row in s.exec(select(ConnectorCache).where(
            ConnectorCache.connection_id == world.connection_id))}
    # what the describes read after provisioning's grants show, the write-back fields included
    assert set(kept) == {f"describe/{name}/fields" for name in ("Opportunity", "Lead", "Contact")}
    assert all({"Id", "Journey_Stage__c", "Journey_Stage_Entered_At__c"} <= set(fields) for fields in kept.values())


# ------------------------------------------------------------------ the Salesforce cursor itself
def _row(stamp: datetime, record_id: str) -> dict:
    return {"Id": record_id, "SystemModstamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.000+0000")}


def test_the_cursor_moves_past_settled_seconds_only():
    t = datetime(2026, 11, 30, 8, 0, 0, tzinfo=UTC)
    cursor = Cursor(None)
    cursor.advance("opportunity", [_row(t, "006B"), _row(t, "006C"), _row(t + timedelta(seconds=1), "006A")],
                   settled_before=t + timedelta(seconds=1))
    # the record of the still-running second is read again; the others never
    assert cursor.to_json() == {"opportunity": {"stamp": t.isoformat(), "id": "006C"}}
    assert cursor.clause("opportunity", None) == (
        "(SystemModstamp > 2026-11-30T08:00:00Z OR (SystemModstamp = 2026-11-30T08:00:00Z AND Id > '006C'))")
    assert cursor.clause("lead", t) == "SystemModstamp >= 2026-11-30T08:00:00Z"
    assert Cursor(cursor.to_json()).positions == cursor.positions
    cursor.advance("opportunity", [_row(t, "006A")], settled_before=t + timedelta(seconds=5))
    assert cursor.to_json()["opportunity"]["id"] == "006C"
