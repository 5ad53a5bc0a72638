"""The exact Salesforce calls of a full, an echo and a quiet sync after a user's set-up (connect,
map, provision), counted by the connector and by the TLS sandbox through simple-salesforce; and a
query subrequest Salesforce fails inside a composite call: read again alone when the pull needs it,
or, when it keeps failing, a clear error for the run and everything read by the next sync."""
from __future__ import annotations

import math
import time

import pytest
from sqlalchemy import text
from sqlmodel import func, select

from integration.connecting import connect, provision
from integration.demo.seed import demo_seed
from integration.map_review import apply_map
from integration.store.models import RecordState
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from mapping import default_map_text
from tests.fixtures_salesforce import sf_control
from tests.sync.crms import start_crm

#: 2,100 opportunities (two pages of 2,000), their stage history (about 9,700 rows: five pages),
#: 30 leads and 20 contacts (a page each).
BOOK = {"opportunities": 2_100, "leads": 30, "sf_contacts": 20, "deals": 0, "hs_contacts": 0}


def _world(services, name: str, book: dict):
    crm = start_crm("salesforce", demo_seed(utcnow(), **book))
    with services.session() as s:
        tenant = get_or_create_tenant(s, name)
        conn = connect(s, services, tenant_id=tenant.id, name=name, crm="salesforce", values=crm.settings())
        apply_map(s, conn.id, default_map_text(), author="test")
        connection_id = conn.id
    provision(services, connection_id)
    return crm, connection_id


def _stored(services, connection_id: int) -> int:
    with services.session() as s:
        return s.exec(select(func.count()).select_from(RecordState).where(
            RecordState.connection_id == connection_id)).one()


@pytest.fixture(scope="module")
def book(services):
    crm, connection_id = _world(services, "sf-calls", BOOK)
    yield crm, connection_id
    crm.stop()


def test_a_full_sync_reads_its_pages_five_a_call(services, book):
    crm, connection_id = book
    sf_control(crm.sandbox, "counters/reset", {})
    full = sync_connection(services, connection_id)
    records = BOOK["opportunities"] + BOOK["leads"] + BOOK["sf_contacts"]
    assert (full.status, full.read) == ("succeeded", records) and full.written > 2000
    assert full.calls_by_route == {
        # no describe: provisioning read them after its grants, and they are fresh
        # the first pages of opportunities, their history, leads and contacts, and the second
        # page of opportunities in the spare slot
        "POST composite query/": 1,
        # history pages 2 to 5
        "POST composite query/{locator}": 1,
        # alone: the history of the opportunities the contacts follow, then the owners' names
        "GET query/": 2,
        # the write-back, 1,000 a call
        "POST composite": math.ceil(full.written / 1000)}
    assert crm.calls()["subrequests"]["GET query/{locator}"] == 1 + 4
    assert full.api_calls == sum(crm.calls()["by_route"].values())
    if services.engine.dialect.name == "postgresql":
        # the tables the sync filled were analysed as they grew and once more at its end: their
        # statistics count the rows now there (never analysed, reltuples is -1)
        with services.session() as s:
            for table in ("recordstate", "journeyevent", "journeysummary", "outboxitem"):
                rows = s.execute(text(f'SELECT count(*) FROM "{table}"')).scalar()
                estimate = s.execute(text("SELECT reltuples FROM pg_class WHERE relname = :t"),
                                     {"t": table}).scalar()
                # (sent outbox items are gone by now: analysed while they were there)
                assert estimate >= 0 and (estimate == rows or table == "outboxitem"), (table, rows, estimate)
    else:
        # SQLite's ANALYZE reads every row: the tables were analysed when their size had doubled,
        # so their statistics count at least half the rows now there (never analysed: none)
        with services.session() as s:
            for table in ("recordstate", "journeyevent", "journeysummary"):
                rows = s.execute(text(f'SELECT count(*) FROM "{table}"')).scalar()
                counted = [int(stat.split()[0]) for stat in s.execute(text(
                    "SELECT stat FROM sqlite_stat1 WHERE tbl = :t"), {"t": table}).scalars()]
                assert counted and rows / 2 < max(counted) <= rows, (table, rows, counted)


def test_the_echo_and_a_quiet_sync_take_one_call_each(services, book):
    crm, connection_id = book
    time.sleep(1.1)  # past the second of our own write-back (Salesforce stamps are whole seconds)
    echo = sync_connection(services, connection_id)
    # every record our write-back touched comes back once, nothing else
    assert (echo.status, echo.read, echo.written) == ("succeeded", len(crm.record_updates()), 0)
    # the first pages of opportunities, leads and contacts, and the second page of opportunities
    assert echo.calls_by_route == {"POST composite query/": 1}
    time.sleep(1.1)
    quiet = sync_connection(services, connection_id)
    assert (quiet.status, quiet.read, quiet.calls_by_route) == ("succeeded", 0, {"POST composite query/": 1})


SMALL = {"opportunities": 300, "leads": 30, "sf_contacts": 20, "deals": 0, "hs_contacts": 0}


def test_a_query_failing_once_inside_a_composite_call_is_read_again_when_needed(services):
    crm, connection_id = _world(services, "sf-slow-once", SMALL)
    try:
        # Salesforce times the leads query out once: the first pages' call answers it alone
        sf_control(crm.sandbox, "faults", {"slow_objects": ["Lead"], "slow_times": 1})
        synced = sync_connection(services, connection_id)
        records = SMALL["opportunities"] + SMALL["leads"] + SMALL["sf_contacts"]
        assert (synced.status, synced.read) == ("succeeded", records)
        # the leads' first page read alone at their turn: one GET query/ more than without the
        # fault (the contacts' history, the owners)
        assert synced.calls_by_route["GET query/"] == 3
        assert _stored(services, connection_id) == records
    finally:
        crm.stop()


def test_a_query_that_keeps_failing_fails_the_run_clearly_and_loses_nothing(services):
    crm, connection_id = _world(services, "sf-slow", SMALL)
    try:
        sf_control(crm.sandbox, "faults", {"slow_objects": ["Lead"]})
        failed = sync_connection(services, connection_id)
        assert failed.status == "failed"
        assert "QUERY_TIMEOUT" in failed.message and "running for too long" in failed.message
        sf_control(crm.sandbox, "faults", {"slow_objects": []})
        again = sync_connection(services, connection_id)
        records = SMALL["opportunities"] + SMALL["leads"] + SMALL["sf_contacts"]
        assert again.status == "succeeded"
        assert _stored(services, connection_id) == records
        # what the failed run left to write is written now, nothing twice
        assert again.written > 0 and set(crm.record_updates().values()) == {1}
    finally:
        crm.stop()
