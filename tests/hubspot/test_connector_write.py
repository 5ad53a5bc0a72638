"""Provision, push, partial failures, rate limits, token refresh, secrets — through the client."""
from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone

import pytest

from connectors.actions import Action
from connectors.base import AuthFailed, ConfigError, CrmError, FieldUpdate, TaskSpec, TransientError
from connectors.hubspot import HubSpotConnector, RateBudget
from connectors.hubspot.sandbox.generate import synthetic_seed
from tests.hubspot.conftest import Api, connector_for, settings_for

WHEN = datetime(2026, 11, 2, 9, 30, 15, 250000, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def portal(make_hs_sandbox):
    return make_hs_sandbox(synthetic_seed(260, 2))


@pytest.fixture(scope="module")
def provisioned(portal):
    connector_for(portal).provision()
    return portal


def test_provision_is_idempotent(make_hs_sandbox) -> None:
    sandbox = make_hs_sandbox()
    first = connector_for(sandbox)
    created = first.provision()
    # 9 write-back properties on deals and contacts, and the task key on tasks
    assert len(created) == 19 and all(f.created for f in created)
    assert {(f.object, f.name) for f in created} >= {("deal", "journey_stage"), ("task", "journey_task_key"),
                                                      ("contact", "journey_stalled")}
    second = connector_for(sandbox)
    again = second.provision()
    assert [(f.object, f.name, f.created) for f in again] == \
        [(f.object, f.name, False) for f in created]
    assert not [r for r in second.usage.by_route if r.startswith("POST")]
    api = Api(sandbox)
    stalled = api.get("/crm/v3/properties/deals/journey_stalled").json()
    assert (stalled["type"], stalled["fieldType"], stalled["groupName"]) == \
        ("bool", "booleancheckbox", "journey")
    entered = api.get("/crm/v3/properties/contacts/journey_stage_entered_at").json()
    assert entered["type"] == "datetime"
    days = api.get("/crm/v3/properties/deals/journey_days_over_expected").json()
    assert (days["type"], days["fieldType"], days["groupName"]) == ("number", "number", "journey")


def test_250_updates_take_three_calls_and_read_back_normalised(provisioned) -> None:
    connector = connector_for(provisioned)
    deals = [r for r in connector.pull() if r.object == "deal"][:250]
    updates = [FieldUpdate("deal", r.id, {"journey_stage": "decision", "persona": "enterprise_buyer",
                                          "next_best_action": "Send the proposal", "stalled": True,
                                          "stage_entered_at": WHEN, "journey_updated_at": WHEN,
                                          "days_in_stage": 40, "days_over_expected": 26})
               for r in deals]
    progress = []
    results = connector.push(updates, progress=lambda *a: progress.append(a))
    assert [r.id for r in results] == [u.id for u in updates] and all(r.ok for r in results)
    assert connector.usage.by_route["POST /crm/v3/objects/deals/batch/update"] == 3
    assert progress == [("deal", 100, 250), ("deal", 200, 250), ("deal", 250, 250)]
    back = next(connector.pull(ids={"deal": [deals[7].id]}))
    assert back.writeback == {"journey_stage": "decision", "persona": "enterprise_buyer",
                              "next_best_action": "Send the proposal", "stalled": True,
                              "stage_entered_at": WHEN.replace(microsecond=250000), "stalls_at": None,
                              "journey_updated_at": WHEN.replace(microsecond=250000),
                              "days_in_stage": 40, "days_over_expected": 26}
    assert back.modified_at > deals[7].modified_at
    connector.push([FieldUpdate("deal", deals[7].id, {"persona": None, "stalled": False})])
    cleared = next(connector.pull(ids={"deal": [deals[7].id]}))
    assert cleared.writeback["persona"] is None and cleared.writeback["stalled"] is False
    raw = Api(provisioned).get(f"/crm/v3/objects/deals/{deals[7].id}",
                               params={"properties": "journey_stalled"}).json()
    assert raw["properties"]["journey_stalled"] == "false"


def test_partial_failures_come_back_per_record(provisioned) -> None:
    api = Api(provisioned)
    api.control("faults", {"record_errors": [{"objectType": "deals", "id": "20000000003",
                                              "category": "VALIDATION_ERROR",
                                              "message": "Record is locked by an approval"}]})
    try:
        connector = connector_for(provisioned)
        results = connector.push([
            FieldUpdate("deal", "20000000002", {"journey_stage": "awareness"}),
            FieldUpdate("deal", "20000000003", {"journey_stage": "awareness"}),
            FieldUpdate("deal", "1", {"journey_stage": "awareness"}),
            FieldUpdate("contact", "1001", {"journey_stage": "retention"}),
        ])
    finally:
        api.control("faults", {"record_errors": []})
    assert [(r.id, r.ok, r.error_code) for r in results] == [
        ("20000000002", True, None), ("20000000003", False, "VALIDATION_ERROR"),
        ("1", False, "OBJECT_NOT_FOUND"), ("1001", True, None)]
    assert results[1].message == "Record is locked by an approval"
    assert connector.usage.calls == 2


CLOSE_DATE_RULE = {"rules": [{"objectType": "deals", "required": "closedate",
                               "when": {"dealstage": "closedwon"},
                               "message": "Close date is required for a closed won deal"}]}


def test_a_record_breaking_a_portal_validation_rule_fails_alone(make_hs_sandbox) -> None:
    """HubSpot enforces a portal's validation rules on API writes (2026-09): the record that breaks
    one fails with HubSpot's reason, the rest of the batch is written in the same call."""
    sandbox = make_hs_sandbox()
    connector = connector_for(sandbox)
    connector.provision()
    assert Api(sandbox).control("validation-rules", CLOSE_DATE_RULE).status_code == 200
    ids = ["18462730011", "18462730012", "18462730013"]  # 012 is closed won without a close date
    results = connector.push([FieldUpdate("deal", i, {"journey_stage": "decision"}) for i in ids])
    assert [(r.id, r.ok, r.error_code, r.retryable) for r in results] == [
        ("18462730011", True, None, False), ("18462730012", False, "VALIDATION_ERROR", False),
        ("18462730013", True, None, False)]
    assert results[1].message == ("HubSpot refused the values: closedate: Close date is required for a "
                                  "closed won deal")
    assert connector.usage.by_route["POST /crm/v3/objects/deals/batch/update"] == 1
    written = {r.id: r.writeback["journey_stage"] for r in connector.pull(ids={"deal": ids})}
    assert written == {"18462730011": "decision", "18462730012": None, "18462730013": "decision"}


def test_a_rejected_batch_fails_each_record_with_the_reason(make_hs_sandbox) -> None:
    connector = connector_for(make_hs_sandbox())  # never provisioned
    results = connector.push([FieldUpdate("deal", "18462730011", {"journey_stage": "purchase"})])
    assert not results[0].ok and results[0].error_code == "VALIDATION_ERROR"
    assert "journey_stage" in results[0].message and "provision" in results[0].message
    with pytest.raises(ConfigError, match="not a write-back field"):
        connector.push([FieldUpdate("deal", "18462730011", {"dealstage": "closedwon"})])
    with pytest.raises(ConfigError, match="property_names: unknown key 'deal.nope'"):
        HubSpotConnector({**settings_for(make_hs_sandbox()), "property_names": {"deal.nope": "x"}})


def test_property_names_remap_canonical_fields(make_hs_sandbox) -> None:
    seed = {"deals": [{"id": "5", "properties": {"dealstage": "qualifiedtobuy", "region": "EMEA",
                                                 "js_stage": "awareness"}}]}
    connector = connector_for(make_hs_sandbox(seed),
                              property_names={"country": "region", "deal.journey_stage": "js_stage"})
    (record,) = [r for r in connector.pull() if r.object == "deal"]
    assert record.fields["country"] == "EMEA" and record.writeback["journey_stage"] == "awareness"
    assert connector.push([FieldUpdate("deal", "5", {"journey_stage": "consideration"})])[0].ok


def test_429_from_another_client_is_waited_out(make_hs_sandbox) -> None:
    seed = synthetic_seed(250)
    for deal in seed["deals"]:
        deal["properties"]["journey_stalled"] = "false"  # the property exists from the start
    sandbox = make_hs_sandbox(seed, rate_limit=12, rate_window_seconds=4.0)
    other = Api(sandbox)
    assert [other.get("/crm/v3/pipelines/deals").status_code for _ in range(12)] == [200] * 12
    connector = connector_for(sandbox)
    ids = [str(20_000_000_001 + n) for n in range(250)]
    results = connector.push([FieldUpdate("deal", i, {"stalled": True}) for i in ids])
    assert all(r.ok for r in results)
    calls = connector.usage.by_route["POST /crm/v3/objects/deals/batch/update"]
    assert calls > 3  # at least one 429 was answered and retried


class RecordingBudget(RateBudget):
    """A budget that remembers every pause HubSpot asked for."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.holds: list[tuple[float, bool]] = []

    def hold(self, seconds: float, *, search: bool = False) -> None:
        self.holds.append((seconds, search))
        super().hold(seconds, search=search)


def test_a_search_429_without_policy_name_pauses_the_search_budget(make_hs_sandbox) -> None:
    """HubSpot's search 429s may carry no policyName: the connector still pauses searches (for
    the search limit's whole second), not the portal's rolling budget."""
    sandbox = make_hs_sandbox(synthetic_seed(20))
    other = Api(sandbox)
    assert all(other.post("/crm/v3/objects/deals/search", {"limit": 1}).status_code == 200
               for _ in range(5))
    budget = RecordingBudget(sandbox.rate.limit, sandbox.rate.window_seconds, search_per_second=5)
    connector = connector_for(sandbox, budget=budget)
    assert len([r for r in connector.pull() if r.object == "deal"]) == 20
    assert budget.holds and all(search and seconds >= 1.0 for seconds, search in budget.holds)


def test_an_oauth_app_sees_no_daily_quota(make_hs_sandbox) -> None:
    """OAuth (public) apps get no X-HubSpot-RateLimit-Daily headers: no quota is invented."""
    sandbox = make_hs_sandbox()
    oauth = connector_for(sandbox, oauth=True)
    list(oauth.pull())
    assert oauth.usage.quota_limit is None and oauth.usage.quota_used is None
    private = connector_for(sandbox)
    list(private.pull())
    assert private.usage.quota_limit == 250_000


def test_a_shared_budget_keeps_two_connectors_under_the_limit(make_hs_sandbox) -> None:
    sandbox = make_hs_sandbox(rate_limit=8, rate_window_seconds=1.0)
    budget = RateBudget(8, 1.0)
    first = connector_for(sandbox, budget=budget)
    second = connector_for(sandbox, budget=budget)
    for _ in range(5):
        for connector in (first, second):
            connector.cache.clear()  # read the stages anew each time
            connector.stages()
    # Each stages() is two calls; any 429 would have shown up as an extra, retried call.
    assert first.usage.calls == second.usage.calls == 10


def test_transient_errors_are_retried_then_surface(make_hs_sandbox) -> None:
    sandbox = make_hs_sandbox()
    api = Api(sandbox)
    connector = connector_for(sandbox)
    api.control("faults", {"fail_next": [503, 502]})
    assert connector.stages()
    assert connector.usage.by_route["GET /crm/v3/pipelines/deals"] == 3
    api.control("faults", {"rate_503": 1.0})
    impatient = HubSpotConnector(settings_for(sandbox), max_attempts=2)
    try:
        with pytest.raises(TransientError) as info:
            impatient.record_url("deal", "1")
    finally:
        api.control("faults", {"error_share": 0, "fail_next": []})
    assert (info.value.status, info.value.code) == (503, "SERVICE_UNAVAILABLE")
    assert impatient.usage.calls == 2


def test_a_write_left_without_an_answer_is_not_sent_again(make_hs_sandbox) -> None:
    """A batch update or task create that timed out may still land: the client does not send it
    again (the outbox settles it against the CRM later), so it is applied once."""
    sandbox = make_hs_sandbox()
    api = Api(sandbox)
    connector = connector_for(sandbox, read_timeout_seconds=0.5)
    connector.provision()
    deal = next(r for r in connector.pull() if r.object == "deal")
    api.control("faults", {"latency_ms": 1500})
    api.control("counters/reset")
    try:
        with pytest.raises(TransientError) as update:
            connector.push([FieldUpdate("deal", deal.id, {"journey_stage": "decision"})])
        with pytest.raises(TransientError) as create:
            connector.create_tasks([TaskSpec("deal", deal.id, "stall-once", "Follow up", "Stalled", WHEN)])
    finally:
        api.control("faults", {"latency_ms": 0})
    assert update.value.unanswered and create.value.unanswered
    time.sleep(2)  # the calls land after their sender gave up
    calls = api.session.get(sandbox.base_url + "/__sandbox__/counters").json()["by_route"]
    assert {route: n for route, n in calls.items() if route.startswith("POST")} == {
        "POST /crm/v3/objects/deals/batch/update": 1, "POST /crm/v3/objects/tasks/batch/create": 1}
    landed = api.get(f"/crm/v3/objects/deals/{deal.id}", params={"properties": "journey_stage"})
    assert landed.json()["properties"]["journey_stage"] == "decision"
    assert list(connector.find_tasks(["stall-once"])) == ["stall-once"]


def test_expired_token_is_refreshed_once_and_reported(make_hs_sandbox) -> None:
    sandbox = make_hs_sandbox()
    seen = []
    connector = HubSpotConnector(settings_for(sandbox, oauth=True), on_tokens=seen.append)
    Api(sandbox).control("expire-tokens")
    assert connector.stages()
    assert len(seen) == 1 and seen[0]["access_token"] != sandbox.info()["access_token"]
    assert seen[0]["refresh_token"] == sandbox.info()["refresh_token"]
    assert connector.usage.by_route["POST /oauth/v1/token"] == 1
    assert connector.usage.by_route["GET /crm/v3/pipelines/deals"] == 2


def test_token_is_refreshed_before_it_expires(make_hs_sandbox) -> None:
    sandbox = make_hs_sandbox()
    soon = (datetime.now(timezone.utc) + timedelta(seconds=30)).isoformat()
    seen = []
    connector = HubSpotConnector(settings_for(sandbox, oauth=True, expires_at=soon),
                                 on_tokens=seen.append)
    connector.stages()
    assert len(seen) == 1 and connector.usage.by_route["GET /crm/v3/pipelines/deals"] == 1
    expires = datetime.fromisoformat(seen[0]["expires_at"].replace("Z", "+00:00"))
    assert math.isclose((expires - datetime.now(timezone.utc)).total_seconds(), 1800, abs_tol=30)


def test_auth_failures_name_the_cause_and_never_the_secrets(make_hs_sandbox) -> None:
    sandbox = make_hs_sandbox()
    info = sandbox.info()
    Api(sandbox).control("expire-tokens")
    secrets = [info["access_token"], info["client_secret"], "bogus-refresh"]
    broken = HubSpotConnector(settings_for(sandbox, oauth=True, refresh_token="bogus-refresh"))
    with pytest.raises(AuthFailed) as failed:
        broken.stages()
    assert failed.value.code == "BAD_REFRESH_TOKEN"
    no_refresh = HubSpotConnector({"base_url": info["base_url"], "access_token": info["access_token"]})
    with pytest.raises(CrmError) as expired:
        no_refresh.stages()
    assert expired.value.code == "EXPIRED_AUTHENTICATION"
    assert failed.value.action is expired.value.action is Action.REAUTHORIZE
    for text in (str(failed.value), str(expired.value), repr(broken), repr(broken.session)):
        assert not [s for s in secrets if s in text]
