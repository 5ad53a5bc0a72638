"""Pull through the real client: records, stage history with and without hs_v2_*, caps, since."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from connectors.base import Connector, FieldUpdate
from connectors.hubspot import SPEC, HubSpotConnector, RateBudget
from connectors.hubspot.sandbox.generate import synthetic_seed
from mapping.records import StageChange
from tests.hubspot.conftest import connector_for, settings_for


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


GLOBEX_PATH = (StageChange("appointmentscheduled", utc("2026-09-01T10:00:00Z")),
               StageChange("qualifiedtobuy", utc("2026-09-12T09:30:00Z")),
               StageChange("contractsent", utc("2026-10-05T12:00:00Z")))


def test_spec_builds_a_connector_that_meets_the_protocol(hs_sandbox) -> None:
    connector = SPEC.factory(settings_for(hs_sandbox), None)
    assert isinstance(connector, Connector)
    assert (connector.crm, connector.write_batch_size, list(connector.objects())) == \
        ("hubspot", 100, ["deal", "contact"])
    assert {s.name for s in SPEC.settings if s.secret} == {"access_token", "refresh_token",
                                                           "client_secret"}


def test_pull_maps_deals_and_contacts(hs_sandbox) -> None:
    connector = connector_for(hs_sandbox)
    records = {r.id: r for r in connector.pull()}
    assert len(records) == 5
    deal = records["18462730011"]
    assert (deal.crm, deal.object, deal.stage_value, deal.pipeline, deal.name) == \
        ("hubspot", "deal", "contractsent", "default", "Globex renewal")
    assert deal.history == GLOBEX_PATH
    assert deal.stage_entered_at == utc("2026-10-05T12:00:00Z")
    assert deal.created_at == utc("2026-09-01T10:00:00Z")
    assert deal.modified_at == utc("2026-10-05T12:00:00Z")
    assert deal.fields == {"amount": 24000.0, "lead_source": "REFERRALS", "owner_id": "310987"}
    assert deal.raw["dealstage"] == "contractsent"
    assert deal.writeback == {"journey_stage": None, "persona": None, "next_best_action": None,
                              "stalled": False, "stage_entered_at": None, "stalls_at": None,
                              "journey_updated_at": None, "days_in_stage": None, "days_over_expected": None}
    assert deal.url == "https://app.hubspot.com/contacts/62515/record/0-3/18462730011"
    contact = records["151"]
    assert (contact.object, contact.stage_value, contact.pipeline, contact.name) == \
        ("contact", "salesqualifiedlead", None, "Ana Silva")
    assert contact.fields["job_title"] == "VP Operations"
    assert contact.fields["industry"] == "Manufacturing" and contact.fields["country"] == "Portugal"
    assert contact.fields["company"] == "Globex"  # a deal has no company of its own (see above)
    assert [c.value for c in contact.history] == ["lead", "salesqualifiedlead"]
    assert contact.url.endswith("/record/0-1/151")


def test_stage_dates_come_with_the_search_page(hs_sandbox) -> None:
    connector = connector_for(hs_sandbox)
    list(connector.pull())
    routes = connector.usage.by_route
    assert routes["POST /crm/v3/objects/deals/search"] == 1
    assert routes["POST /crm/v3/objects/contacts/search"] == 1
    assert not [r for r in routes if "batch/read" in r]
    assert connector.usage.quota_limit == 250_000
    assert 0 < connector.usage.quota_used <= hs_sandbox.calls_total


def test_lower_tier_history_comes_from_properties_with_history(make_hs_sandbox) -> None:
    lower = make_hs_sandbox(synthetic_seed(120, 3), stage_dates=False)
    connector = connector_for(lower)
    records = list(connector.pull())
    assert len(records) == 123
    assert connector.usage.by_route["POST /crm/v3/objects/deals/batch/read"] == 3  # 50 + 50 + 20
    assert connector.usage.by_route["POST /crm/v3/objects/contacts/batch/read"] == 1
    first = next(r for r in records if r.id == "20000000001")
    entries = synthetic_seed(1)["deals"][0]["history"]["dealstage"]
    assert first.history == tuple(StageChange(e["value"], datetime.fromisoformat(e["timestamp"]))
                                  for e in entries)
    assert first.stage_entered_at is None
    assert all(r.history and r.history[-1].value == r.stage_value for r in records)


def test_history_matches_with_and_without_stage_dates(make_hs_sandbox) -> None:
    """Rebuilt from hs_v2_date_entered_* or read from history: the same path (no re-entries)."""
    seed = synthetic_seed(40)
    with_dates = {r.id: r.history for r in connector_for(make_hs_sandbox(seed)).pull()}
    without = {r.id: r.history for r in connector_for(make_hs_sandbox(seed, stage_dates=False)).pull()}
    assert with_dates == without


def test_since_is_inclusive_and_filters_by_modified_date(hs_sandbox) -> None:
    connector = connector_for(hs_sandbox)
    since = utc("2026-10-05T12:00:00Z")  # the Globex deal's last change
    ids = sorted(r.id for r in connector.pull(since))
    assert ids == ["18462730011", "18462730013"]
    assert [r.id for r in connector.pull(since + timedelta(milliseconds=1))] == ["18462730013"]
    naive = since.replace(tzinfo=None)  # taken as UTC
    assert sorted(r.id for r in connector.pull(naive)) == ids


def test_pull_by_ids_and_progress(hs_sandbox) -> None:
    connector = connector_for(hs_sandbox)
    seen = []
    records = list(connector.pull(ids={"deal": ["18462730012", "999"]},
                                  progress=lambda *args: seen.append(args)))
    assert [(r.id, r.stage_value, r.history[-1].value) for r in records] == \
        [("18462730012", "closedwon", "closedwon")]
    assert seen == [("deal", 1, 2)]


def test_stages_reports_pipelines_and_lifecycle(hs_sandbox) -> None:
    stages = connector_for(hs_sandbox).stages()
    deals = [s for s in stages if s.object == "deal"]
    assert [s.value for s in deals][:2] == ["appointmentscheduled", "qualifiedtobuy"]
    won = {s.value for s in deals if s.is_won}
    closed = {s.value for s in deals if s.is_closed}
    assert (won, closed) == ({"closedwon"}, {"closedwon", "closedlost"})
    assert deals[0].pipeline_label == "Sales Pipeline"
    assert [s.value for s in stages if s.object == "contact"][:3] == \
        ["subscriber", "lead", "marketingqualifiedlead"]


@pytest.mark.timeout(240)
def test_walks_25000_deals_past_the_search_cap(make_hs_sandbox) -> None:
    big = make_hs_sandbox(synthetic_seed(25_000), rate_limit=100_000, search_per_second=1_000)
    connector = HubSpotConnector(settings_for(big), rate_budget=RateBudget(
        100_000, 10, search_per_second=1_000))
    ids = [r.id for r in connector.pull()]
    assert len(ids) == 25_000 and len(set(ids)) == 25_000
    assert connector.usage.by_route["POST /crm/v3/objects/deals/search"] == 125
    assert "POST /crm/v3/objects/deals/batch/read" not in connector.usage.by_route


def test_normal_running_stays_under_hubspots_real_limits(make_hs_sandbox) -> None:
    """At the real limits (110 per 10 s, search 5 per second) a pull and a write-back of 1,200
    deals never get a 429: every call is one of the minimum, none is a retry."""
    sandbox = make_hs_sandbox(synthetic_seed(1_200))
    budget = RateBudget()
    connector = HubSpotConnector(settings_for(sandbox), rate_budget=budget)
    seen = []
    records = list(connector.pull(progress=lambda *args: seen.append(args)))
    assert connector.usage.by_route["POST /crm/v3/objects/deals/search"] == 6
    assert [s for s in seen if s[0] == "deal"] == [("deal", 200 * n, 1_200) for n in range(1, 7)]
    writer = HubSpotConnector(settings_for(sandbox), rate_budget=budget)
    writer.provision()
    results = writer.push([FieldUpdate("deal", r.id, {"stalled": True}) for r in records])
    assert all(r.ok for r in results)
    assert writer.usage.by_route["POST /crm/v3/objects/deals/batch/update"] == 12
