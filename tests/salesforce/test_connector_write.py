"""The connector's write side and its failure handling: provisioning, write-back, tokens, quota, 503s."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from connectors.actions import Action
from connectors.base import AuthFailed, CrmError, FieldUpdate, QuotaReached, TaskSpec, TransientError
from connectors.salesforce import SalesforceConnector
from tests.fixtures_salesforce import (
    CONTACT_LI, LEAD_ANA, OPP_ACME, OPP_GLOBEX, OPP_WON, sf_control, sf_seed, sf_settings,
)
from tests.salesforce.helpers import simple_sf

UTC = timezone.utc
FAST = {"retry_wait_seconds": 0.01, "retry_max_wait_seconds": 0.05}


def _seed_with(n: int) -> dict:
    seed = sf_seed()
    seed["opportunities"] += [{"Name": f"Bulk {i:04d}", "StageName": "Prospecting", "CloseDate": "2027-01-01",
                               "CreatedDate": "2026-01-01T00:00:00Z"} for i in range(n)]
    return seed


def _provisioned(make_sf_sandbox, seed=None, **options):
    sandbox = make_sf_sandbox(seed or sf_seed(), **options)
    SalesforceConnector(sf_settings(sandbox)).provision()
    return sandbox


def test_provisioning_creates_fields_grants_access_and_is_idempotent(make_sf_sandbox):
    sandbox = make_sf_sandbox(sf_seed())
    connector = SalesforceConnector(sf_settings(sandbox, field_names={"persona": "Buyer_Persona__c"}))
    first = connector.provision()
    # 7 write-back fields and 2 day-count formulas on 3 objects, and the task key on Activity
    assert len(first) == 28 and all(f.created for f in first)
    assert {(f.object, f.name, f.label) for f in first if f.name == "Buyer_Persona__c"} == {
        ("Opportunity", "Buyer_Persona__c", "Journey Persona"), ("Lead", "Buyer_Persona__c", "Journey Persona"),
        ("Contact", "Buyer_Persona__c", "Journey Persona")}
    sf = simple_sf(sandbox)
    counts = {name: sf.query(f"SELECT Id FROM {name}")["totalSize"]
              for name in ("PermissionSet", "PermissionSetAssignment", "FieldPermissions")}
    assert counts == {"PermissionSet": 1, "PermissionSetAssignment": 1, "FieldPermissions": 28}
    stalled = next(f for f in sf.Lead.describe()["fields"] if f["name"] == "Journey_Stalled__c")
    assert (stalled["type"], stalled["custom"]) == ("boolean", True)
    sf_control(sandbox, "counters/reset", {})
    second = SalesforceConnector(sf_settings(sandbox, field_names={"persona": "Buyer_Persona__c"})).provision()
    assert [(f.object, f.name) for f in second] == [(f.object, f.name) for f in first]
    assert not any(f.created for f in second)
    routes = sf_control(sandbox, "counters")["by_route"]
    # reads only; the describes after the grants (one composite call) show the fields visible
    assert set(routes) == {"GET tooling/query/", "GET query/", "GET /services/oauth2/userinfo",
                           "GET tooling/sobjects/CustomField/<field_id>", "POST composite"}
    assert routes["POST composite"] == 1
    assert {name: sf.query(f"SELECT Id FROM {name}")["totalSize"] for name in counts} == counts
    assert sf.restful("tooling/query/", params={"q": "SELECT Id FROM CustomField"})["totalSize"] == 28


def test_1050_updates_go_out_in_two_calls_and_read_back_equal(make_sf_sandbox):
    """Five collections of 200 ride one composite call: Salesforce counts it as one API call."""
    sandbox = _provisioned(make_sf_sandbox, _seed_with(1047))
    connector = SalesforceConnector(sf_settings(sandbox))
    ids = [r.id for r in connector.pull(ids=None) if r.object == "opportunity"]
    stamp = datetime(2026, 11, 1, 12, 30, 15, 123000, tzinfo=UTC)
    updates = [FieldUpdate("opportunity", i, {"journey_stage": "consideration", "persona": "enterprise_buyer",
                                              "next_best_action": "Send the ROI case", "stalled": n % 2 == 0,
                                              "stage_entered_at": stamp, "journey_updated_at": stamp})
               for n, i in enumerate(ids)]
    progress = []
    sf_control(sandbox, "counters/reset", {})
    results = connector.push(updates, progress=lambda *p: progress.append(p))
    assert len(results) == 1050 and all(r.ok for r in results)
    assert [(r.object, r.id) for r in results] == [(u.object, u.id) for u in updates]
    counters = sf_control(sandbox, "counters")
    assert counters["by_route"] == {"POST composite": 2}
    assert counters["subrequests"] == {"PATCH composite/sobjects": 6}
    assert connector.usage.by_route["POST composite"] == 2
    assert progress == [("write", 1000, 1050), ("write", 1050, 1050)]
    back = {r.id: r.writeback for r in connector.pull(ids={"opportunity": ids[:3]})}
    assert back[ids[0]] == {"journey_stage": "consideration", "persona": "enterprise_buyer",
                            "next_best_action": "Send the ROI case", "stalled": True,
                            "stage_entered_at": stamp, "stalls_at": None, "journey_updated_at": stamp}
    assert back[ids[1]]["stalled"] is False
    connector.push([FieldUpdate("opportunity", ids[0], {"persona": None, "stage_entered_at": None})])
    cleared = next(iter(connector.pull(ids={"opportunity": ids[:1]}))).writeback
    assert (cleared["persona"], cleared["stage_entered_at"], cleared["journey_stage"]) == (None, None, "consideration")


def test_a_mixed_batch_is_grouped_by_object_type_into_few_chunks(make_sf_sandbox):
    """Interleaved opportunities and leads would make 12 chunks, over Salesforce's 10 a request:
    the connector groups by type and answers in the caller's order."""
    seed = _seed_with(3)
    seed["leads"] += [{"LastName": f"Lead {i}", "Company": "Initech", "Status": "Open - Not Contacted",
                       "CreatedDate": "2026-01-01T00:00:00Z"} for i in range(5)]
    sandbox = _provisioned(make_sf_sandbox, seed)
    connector = SalesforceConnector(sf_settings(sandbox, **FAST))
    pulled = list(connector.pull())
    opps = [r.id for r in pulled if r.object == "opportunity"][:6]
    leads = [r.id for r in pulled if r.object == "lead"][:6]
    updates = [FieldUpdate(kind, record_id, {"journey_stage": "awareness"})
               for pair in zip(opps, leads) for kind, record_id in zip(("opportunity", "lead"), pair)]
    sf_control(sandbox, "counters/reset", {})
    results = connector.push(updates)
    assert [(r.object, r.id, r.ok) for r in results] == [(u.object, u.id, True) for u in updates]
    assert sf_control(sandbox, "counters")["by_route"] == {"POST composite": 1}


def test_partial_failures_come_back_per_record(make_sf_sandbox):
    sandbox = _provisioned(make_sf_sandbox)
    connector = SalesforceConnector(sf_settings(sandbox, **FAST))
    results = connector.push([
        FieldUpdate("opportunity", OPP_ACME, {"journey_stage": "decision"}),
        FieldUpdate("opportunity", "0065g00000NoNeXAAF", {"journey_stage": "decision"}),
        FieldUpdate("lead", LEAD_ANA, {"next_best_action": "x" * 300}),
        FieldUpdate("contact", CONTACT_LI, {"persona": "small_buyer", "stalled": True}),
        FieldUpdate("opportunity", LEAD_ANA, {"journey_stage": "decision"}),
        FieldUpdate("deal", "18462730011", {"journey_stage": "decision"}),
        FieldUpdate("lead", LEAD_ANA, {"stage_entered_at": datetime(2026, 1, 1)}),
        FieldUpdate("lead", LEAD_ANA, {"journey_stag": "decision"}),
    ])
    assert [(r.id, r.ok, r.error_code, r.retryable) for r in results] == [
        (OPP_ACME, True, None, False),
        ("0065g00000NoNeXAAF", False, "INVALID_CROSS_REFERENCE_KEY", False),
        (LEAD_ANA, False, "STRING_TOO_LONG", False),
        (CONTACT_LI, True, None, False),
        (LEAD_ANA, False, "MALFORMED_ID", False),
        ("18462730011", False, "INVALID_TYPE", False),
        (LEAD_ANA, False, "INVALID_VALUE", False),
        (LEAD_ANA, False, "INVALID_FIELD", False),
    ]
    assert "max length=255" in results[2].message


def test_lock_errors_back_off_and_retry_only_the_locked_records(make_sf_sandbox):
    sandbox = _provisioned(make_sf_sandbox)
    connector = SalesforceConnector(sf_settings(sandbox, **FAST))
    sf_control(sandbox, "faults", {"lock_ids": [OPP_GLOBEX], "lock_times": 2})
    sf_control(sandbox, "counters/reset", {})
    results = connector.push([FieldUpdate("opportunity", i, {"journey_stage": "awareness"})
                              for i in (OPP_ACME, OPP_GLOBEX, OPP_WON)])
    assert all(r.ok for r in results)
    counters = sf_control(sandbox, "counters")
    assert counters["by_route"] == {"POST composite": 3}
    assert counters["record_updates"] == {OPP_ACME: 1, OPP_GLOBEX: 1, OPP_WON: 1}  # only the locked one re-sent
    sf_control(sandbox, "faults", {"lock_ids": [OPP_WON]})
    stuck = connector.push([FieldUpdate("opportunity", OPP_WON, {"journey_stage": "awareness"})])
    assert [(r.ok, r.error_code, r.retryable) for r in stuck] == [(False, "UNABLE_TO_LOCK_ROW", True)]


def test_an_expired_token_mid_sync_is_refreshed_and_reported(make_sf_sandbox):
    sandbox = make_sf_sandbox(_seed_with(2500))
    tokens = []
    connector = SalesforceConnector(sf_settings(sandbox), on_tokens=tokens.append)
    pulled = connector.pull()
    first = [next(pulled) for _ in range(10)]
    sf_control(sandbox, "expire-tokens", {})
    rest = list(pulled)
    assert len(first) + len(rest) == 2506
    assert connector.usage.by_route["POST oauth2/token"] == 1
    assert len(tokens) == 1 and set(tokens[0]) == {"access_token"}
    assert tokens[0]["access_token"] != sandbox.info()["access_token"]


def test_refresh_is_bounded_and_never_leaks_tokens(make_sf_sandbox):
    sandbox = make_sf_sandbox(sf_seed(), token_ttl_seconds=0)
    connector = SalesforceConnector(sf_settings(sandbox, max_refreshes=2))
    with pytest.raises(CrmError) as expired:
        list(connector.pull())
    assert connector.usage.by_route["POST oauth2/token"] == 2
    assert expired.value.code == "INVALID_SESSION_ID" and expired.value.action is Action.REAUTHORIZE
    info = sandbox.info()
    for secret in (info["access_token"], info["refresh_token"], info["client_secret"]):
        assert secret not in str(expired.value)
    no_refresh = SalesforceConnector({**sf_settings(sandbox), "refresh_token": None})
    with pytest.raises(CrmError) as expired:
        no_refresh.stages()
    assert expired.value.action is Action.REAUTHORIZE
    assert "POST oauth2/token" not in no_refresh.usage.by_route
    revoked = SalesforceConnector(sf_settings(sandbox, refresh_token="5Aeprevoked"))
    with pytest.raises(AuthFailed) as failed:
        revoked.stages()
    assert failed.value.code == "invalid_grant" and "5Aeprevoked" not in str(failed.value)


def test_the_daily_quota_running_out_mid_sync_stops_without_reauthenticating(make_sf_sandbox):
    sandbox = make_sf_sandbox(_seed_with(4500), daily_quota=10)
    connector = SalesforceConnector(sf_settings(sandbox, quota_share=1.0, **FAST))
    pulled = connector.pull()
    first = next(pulled)
    # describe, the first pages of the pull's queries (one composite call), and (one composite
    # call of query-more subrequests) the next pages of history it needs
    assert (connector.usage.quota_used, connector.usage.quota_limit) == (3, 10)
    sf_control(sandbox, "faults", {"api_used": 10})
    with pytest.raises(QuotaReached) as reached:
        list(pulled)
    assert first.object == "opportunity"
    assert (reached.value.code, reached.value.used, reached.value.limit) == ("REQUEST_LIMIT_EXCEEDED", 10, 10)
    assert "TotalRequests Limit exceeded" in reached.value.message
    assert "POST oauth2/token" not in connector.usage.by_route
    # the history stream's next pages (with the last page of opportunities read ahead), then the
    # refused call: the history of the opportunities the contacts follow
    assert connector.usage.by_route == {"POST composite sobjects/describe": 1, "POST composite query/": 1,
                                        "POST composite query/{locator}": 1, "GET query/": 1}
    with pytest.raises(QuotaReached) as ceiling:
        connector.stages()
    assert ceiling.value.code == "QUOTA_CEILING"


def test_the_configured_quota_ceiling_stops_a_push_and_says_so(make_sf_sandbox):
    sandbox = _provisioned(make_sf_sandbox, _seed_with(2997), daily_quota=100)
    all_ids = [r["Id"] for r in simple_sf(sandbox).query_all("SELECT Id FROM Opportunity")["records"]]
    sf_control(sandbox, "faults", {"api_used": 45})
    connector = SalesforceConnector(sf_settings(sandbox, quota_share=0.5))
    # a targeted pull: describe, the record, its history
    assert [r.id for r in connector.pull(ids={"opportunity": [OPP_ACME]})] == [OPP_ACME]
    results = connector.push([FieldUpdate("opportunity", i, {"journey_stage": "awareness"}) for i in all_ids])
    assert connector.usage.quota_used == 50 and connector.usage.quota_limit == 100
    assert [r.ok for r in results].count(True) == 2000  # two composite calls of 1,000
    assert {(r.error_code, r.retryable) for r in results[2000:]} == {("QUOTA_CEILING", True)}
    assert "50% of the daily Salesforce API quota: 50 of 100 calls used" in results[-1].message
    assert connector.stopped == results[-1].message
    with pytest.raises(QuotaReached) as stopped:
        connector.push([FieldUpdate("opportunity", OPP_ACME, {"journey_stage": "awareness"})])
    assert (stopped.value.used, stopped.value.limit, stopped.value.code) == (50, 100, "QUOTA_CEILING")


def test_503_storms_are_ridden_out_with_jittered_retries(make_sf_sandbox):
    sandbox = _provisioned(make_sf_sandbox, _seed_with(600), random_seed=2)
    sf_control(sandbox, "faults", {"error_503_share": 0.4})
    connector = SalesforceConnector(sf_settings(sandbox, retry_attempts=10, **FAST))
    records = [r for r in connector.pull() if r.object == "opportunity"]
    assert len(records) == 603
    results = connector.push([FieldUpdate("opportunity", r.id, {"journey_stage": "awareness"}) for r in records])
    assert all(r.ok for r in results)
    counters = sf_control(sandbox, "counters")
    assert counters["by_route"]["POST composite"] > 1  # 603 records fit one call: the rest were retries


def test_a_503_that_never_clears_is_a_transient_error_after_bounded_attempts(make_sf_sandbox):
    sandbox = make_sf_sandbox(sf_seed(), error_503_share=1.0)
    connector = SalesforceConnector(sf_settings(sandbox, retry_attempts=3, **FAST))
    with pytest.raises(TransientError) as unavailable:
        connector.stages()
    assert (unavailable.value.code, unavailable.value.status) == ("SERVER_UNAVAILABLE", 503)
    assert connector.usage.by_route == {"GET query/": 3}


def test_a_collection_refused_whole_backs_off_and_the_others_are_written(make_sf_sandbox):
    """A field the org lacks makes Salesforce refuse the whole collection naming it (a 400
    subrequest): its 200 records back off (no verdict on them), the next collection is written."""
    sandbox = _provisioned(make_sf_sandbox, _seed_with(250))
    connector = SalesforceConnector(sf_settings(sandbox, field_names={"persona": "Never_Provisioned__c"}, **FAST))
    ids = sorted(r.id for r in connector.pull() if r.object == "opportunity")
    updates = [FieldUpdate("opportunity", i, {"journey_stage": "awareness"}) for i in ids]
    updates[5] = FieldUpdate("opportunity", ids[5], {"persona": "enterprise_buyer"})
    sf_control(sandbox, "counters/reset", {})
    results = connector.push(updates)
    assert {(r.ok, r.error_code, r.action) for r in results[:200]} == {(False, "INVALID_FIELD", Action.BACKOFF)}
    assert "refused the whole collection (400 INVALID_FIELD)" in results[0].message
    assert all(r.ok for r in results[200:]) and len(results) == 253
    counters = sf_control(sandbox, "counters")
    assert counters["by_route"] == {"POST composite": 1}  # a backed-off collection is not retried at once
    assert set(counters["record_updates"]) == set(ids[200:])


def test_tasks_are_created_a_thousand_a_call_and_found_again_by_key(make_sf_sandbox):
    sandbox = _provisioned(make_sf_sandbox)
    connector = SalesforceConnector(sf_settings(sandbox, **FAST))
    due = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    specs = [TaskSpec("opportunity", OPP_ACME, f"stall-{n:04d}", "Follow up", "Stalled", due) for n in range(1001)]
    specs.append(TaskSpec("opportunity", "0065g00000NoNeXAAF", "gone", "Follow up", "Stalled", due))
    sf_control(sandbox, "counters/reset", {})
    results = connector.create_tasks(specs)
    assert [r.key for r in results] == [s.key for s in specs]
    assert all(r.ok for r in results[:1001])
    assert (results[-1].ok, results[-1].error_code, results[-1].retryable) == (
        False, "INVALID_CROSS_REFERENCE_KEY", False)
    counters = sf_control(sandbox, "counters")
    assert counters["by_route"] == {"POST composite": 2}  # 1,000 then 2
    assert counters["subrequests"] == {"POST composite/sobjects": 6}
    found = connector.find_tasks([s.key for s in specs])
    assert len(found) == 1001 and found["stall-0000"] == results[0].crm_id


def test_a_write_left_without_an_answer_is_not_sent_again(make_sf_sandbox):
    """A write that timed out may still land: the client does not send it again (the outbox
    settles it against the CRM later), so it is applied once."""
    sandbox = _provisioned(make_sf_sandbox)
    connector = SalesforceConnector(sf_settings(sandbox, read_timeout_seconds=0.5, retry_attempts=3, **FAST))
    sf_control(sandbox, "faults", {"latency_ms": 1500})
    sf_control(sandbox, "counters/reset", {})
    with pytest.raises(TransientError) as no_answer:
        connector.push([FieldUpdate("opportunity", OPP_ACME, {"journey_stage": "decision"})])
    assert (no_answer.value.code, no_answer.value.status) == ("CONNECTION_ERROR", None)
    assert connector.usage.by_route == {"POST composite": 1}
    sf_control(sandbox, "faults", {"latency_ms": 0})
    time.sleep(2)  # the call lands after its sender gave up
    assert sf_control(sandbox, "counters")["record_updates"] == {OPP_ACME: 1}
