"""Big pulls and writes through Bulk API 2.0: the same records and the same per-record verdicts as
REST, the switch at the connection's threshold, jobs aborted when the connector stops waiting, and
a whole sync (pull, classify, write-back, echo) through Bulk on the service's store."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import islice

import pytest
from sqlmodel import select

from connectors.actions import Action
from connectors.base import FieldUpdate, TransientError
from connectors.salesforce import SalesforceConnector
from connectors.salesforce.bulk import poll_delays
from connectors.salesforce.push import BULK_JOB_RECORDS
from integration.connecting import connect, provision
from integration.map_review import apply_map
from integration.store.models import RecordState
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from mapping import default_map_text
from tests.fixtures_salesforce import sf_control, sf_settings
from tests.salesforce.helpers import simple_sf
from tests.sync.crms import start_crm

UTC = timezone.utc
FAST = {"retry_wait_seconds": 0.01, "retry_max_wait_seconds": 0.05, "bulk_poll_seconds": 0.05}
STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote")
#: More than one REST page (2,000), so a pull has more to read after its first page.
RECORDS = 2_300
JOB_ROUTES = ("POST jobs/query", "POST jobs/ingest")


def _seed(n: int = RECORDS) -> dict:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    accounts = [{"Id": f"0015g0000{i:06d}AAA", "Name": f"Account {i}", "Industry": "Technology",
                 "NumberOfEmployees": 10 * i} for i in range(20)]
    opportunities = []
    for i in range(n):
        steps = 1 + i % 3
        created = start + timedelta(minutes=i)
        opportunities.append({
            "Name": f"Deal {i}", "AccountId": accounts[i % 20]["Id"] if i % 7 else None, "Amount": 1000 + i,
            "StageName": STAGES[steps - 1], "CloseDate": "2027-06-30", "CreatedDate": created.isoformat(),
            "history": [{"StageName": STAGES[s], "CreatedDate": (created + timedelta(days=7 * s)).isoformat()}
                        for s in range(steps)]})
    leads = [{"FirstName": "Lead", "LastName": str(i), "Company": "Co", "Status": "Open - Not Contacted",
              "CreatedDate": "2026-02-01T00:00:00Z"} for i in range(30)]
    return {"accounts": accounts, "opportunities": opportunities, "leads": leads}


@pytest.fixture(scope="module")
def big_org(make_sf_sandbox):
    sandbox = make_sf_sandbox(_seed())
    SalesforceConnector(sf_settings(sandbox)).provision()
    return sandbox


def _pull(sandbox, **settings):
    sf_control(sandbox, "counters/reset", {})
    connector = SalesforceConnector(sf_settings(sandbox, **FAST, **settings))
    records = {(r.object, r.id): r for r in connector.pull()}
    return records, sf_control(sandbox, "counters")["by_route"], connector


def test_a_pull_at_the_threshold_goes_through_bulk_and_reads_the_same_records(big_org):
    rest, rest_routes, _ = _pull(big_org, bulk_threshold=0)
    below, below_routes, rest_connector = _pull(big_org, bulk_threshold=RECORDS + 1)
    bulk, bulk_routes, bulk_connector = _pull(big_org, bulk_threshold=1_000)
    assert len(rest) == RECORDS + 30
    assert not any(r in routes for r in JOB_ROUTES for routes in (rest_routes, below_routes))
    # Opportunities: a records job and a history job; leads (30) stay below the threshold.
    assert bulk_routes["POST jobs/query"] == 2
    assert bulk_routes["GET jobs/query/<job_id>/results"] == 2
    # the probing first page of each kind (and of the history, which Bulk then reads) in one
    # composite call, nothing else by REST
    rest_reads = {route: n for route, n in bulk_connector.usage.by_route.items()
                  if route.startswith(("GET query", "POST composite query"))}
    assert rest_reads == {"POST composite query/": 1}
    assert bulk_routes["POST composite"] == 2  # the describes, the first pages
    assert bulk == rest == below
    moved = next(r for r in bulk.values() if r.object == "opportunity" and len(r.history) == 3)
    assert [c.value for c in moved.history] == list(STAGES[:3])
    # A pull that went through Bulk is followed by as big a write-back: its flushes claim whole
    # ingest jobs from the first due update on; after a REST pull, five composite calls' worth.
    assert (bulk_connector.write_claim_size(10), rest_connector.write_claim_size(10)) == (BULK_JOB_RECORDS, 1_000)
    assert rest_connector.write_claim_size(RECORDS + 1) == BULK_JOB_RECORDS


def _updates(ids: list[str]) -> list[FieldUpdate]:
    stamp = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    updates = [FieldUpdate("opportunity", i, {"journey_stage": "consideration", "stalled": n % 2 == 0,
                                              "stage_entered_at": stamp if n % 3 else None, "persona": None})
               for n, i in enumerate(ids)]
    updates[1] = FieldUpdate("opportunity", ids[1], {"journey_stage": "no-such-stage"})
    updates.append(FieldUpdate("opportunity", "0065g0000099999AAA", {"persona": "general"}))
    return updates


def test_a_bulk_write_gives_the_verdicts_composite_gives(make_sf_sandbox):
    verdicts, held = [], []
    for threshold in (0, 20):
        sandbox = make_sf_sandbox(_seed(60))
        SalesforceConnector(sf_settings(sandbox)).provision()
        ids = [r["Id"] for r in simple_sf(sandbox).query("SELECT Id FROM Opportunity ORDER BY Id")["records"]]
        sf_control(sandbox, "faults", {"lock_ids": [ids[2]]})
        sf_control(sandbox, "counters/reset", {})
        connector = SalesforceConnector(sf_settings(sandbox, bulk_threshold=threshold, **FAST))
        results = connector.push(_updates(ids))
        verdicts.append([(r.id, r.ok, r.error_code, r.action) for r in results])
        routes = sf_control(sandbox, "counters")["by_route"]
        assert ("POST jobs/ingest" in routes) == bool(threshold)
        sf = simple_sf(sandbox)
        held.append([(r["Journey_Stage__c"], r["Journey_Stalled__c"], r["Journey_Stage_Entered_At__c"])
                     for r in sf.query("SELECT Journey_Stage__c, Journey_Stalled__c, Journey_Stage_Entered_At__c "
                                       "FROM Opportunity ORDER BY Id")["records"]])
    assert verdicts[0] == verdicts[1]
    assert held[0] == held[1]
    failed = {code: action for _, ok, code, action in verdicts[1] if not ok}
    assert failed == {"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": Action.FAIL_RECORD,
                      "UNABLE_TO_LOCK_ROW": Action.BACKOFF, "INVALID_CROSS_REFERENCE_KEY": Action.FAIL_RECORD}
    assert sum(ok for _, ok, _, _ in verdicts[1]) == 60 - 2


def test_a_job_is_asked_after_a_short_wait_then_less_often_up_to_the_poll_setting():
    assert list(islice(poll_delays(2.0), 6)) == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert list(islice(poll_delays(0.05), 3)) == [0.05, 0.05, 0.05]  # never longer than the setting


def test_a_job_that_does_not_finish_in_time_is_aborted(make_sf_sandbox):
    sandbox = make_sf_sandbox(_seed(), bulk_delay_ms=3_000)
    connector = SalesforceConnector(sf_settings(sandbox, bulk_threshold=1_000, bulk_wait_seconds=0.3, **FAST))
    with pytest.raises(TransientError) as stopped:
        list(connector.pull())
    assert stopped.value.code == "BULK_JOB_TIMEOUT"
    routes = sf_control(sandbox, "counters")["by_route"]
    assert routes["PATCH jobs/query/<job_id>"] == 1  # the history job: aborted, not left running
    assert "POST jobs/ingest" not in routes


def test_a_sync_runs_through_bulk_end_to_end(services, make_sf_sandbox):
    crm = start_crm("salesforce", {"salesforce": _seed()})
    try:
        with services.session() as s:
            tenant = get_or_create_tenant(s, "bulk-e2e")
            conn = connect(s, services, tenant_id=tenant.id, name="bulk-e2e", crm="salesforce",
                           values={**crm.settings(), "bulk_threshold": 500, "bulk_poll_seconds": 0.05})
            apply_map(s, conn.id, default_map_text(), author="test")
            connection_id = conn.id
        provision(services, connection_id)
        first = sync_connection(services, connection_id, now=utcnow())
        assert (first.status, first.read, first.failed) == ("succeeded", RECORDS + 30, 0)
        assert first.written == first.changed == RECORDS + 30
        assert first.calls_by_route["POST jobs/query"] == 2 and first.calls_by_route["POST jobs/ingest"] == 2
        assert "PATCH composite/sobjects" not in first.calls_by_route  # the 30 leads are one ingest job too
        with services.session() as s:
            states = {r.crm_id: r for r in s.exec(select(RecordState).where(
                RecordState.connection_id == connection_id, RecordState.object == "opportunity"))}
        assert len(states) == RECORDS
        sample = sorted(states)[::400]
        for crm_id in sample:
            assert crm.read("opportunity", crm_id)["journey_stage"] == states[crm_id].stage
        # The echo of our own write: every record read back once (through Bulk), nothing to write.
        echo = sync_connection(services, connection_id, now=utcnow())
        assert (echo.status, echo.read, echo.written, echo.changed) == ("succeeded", RECORDS + 30, 0, 0)
        assert echo.calls_by_route["POST jobs/query"] == 1  # no history job: no stage moved
    finally:
        crm.stop()
