"""Seed validation: every problem reported with its path; history rules; defaults."""
from __future__ import annotations

import copy

import pytest

from connectors.hubspot.sandbox import HubSpotSandbox
from connectors.seedfile import SeedError
from tests.fixtures_hubspot import HS_SEED


def _error(seed: dict) -> str:
    with pytest.raises(SeedError) as info:
        HubSpotSandbox(seed)
    return str(info.value)


def test_unknown_keys_are_reported_with_their_path() -> None:
    seed = copy.deepcopy(HS_SEED)
    seed["deals"][2]["propertes"] = {}
    seed["contacts"][0]["history"]["lifecyclestage"][0]["when"] = "x"
    seed["portal"] = 1
    lines = _error(seed).splitlines()
    assert "hubspot.deals[2].propertes: unknown key" in lines
    assert "hubspot.contacts[0].history.lifecyclestage[0].when: unknown key" in lines
    assert "hubspot.portal: unknown key" in lines


def test_history_must_end_at_the_current_stage_and_be_oldest_first() -> None:
    seed = copy.deepcopy(HS_SEED)
    history = seed["deals"][0]["history"]["dealstage"]
    history[0], history[1] = history[1], history[0]
    seed["deals"][1]["history"]["dealstage"][-1]["value"] = "closedlost"
    message = _error(seed)
    assert "hubspot.deals[0].history.dealstage[1].timestamp: history must be oldest first" in message
    assert ("hubspot.deals[1].history.dealstage[2].value: the last entry 'closedlost' must equal "
            "the current value 'closedwon'") in message


def test_ids_and_timestamps_are_checked_by_shape() -> None:
    seed = copy.deepcopy(HS_SEED)
    seed["contacts"][0]["id"] = "abc"
    seed["contacts"][0]["history"]["lifecyclestage"][0]["timestamp"] = "2026-08-11T08:00:00"
    message = _error(seed)
    assert "hubspot.contacts[0].id: String should match pattern" in message
    assert "hubspot.contacts[0].history.lifecyclestage[0].timestamp" in message


def test_semantic_problems_are_all_listed() -> None:
    seed = copy.deepcopy(HS_SEED)
    seed["deals"][0]["properties"]["dealstage"] = "negotiation"
    seed["deals"][1]["id"] = seed["deals"][2]["id"]
    seed["contacts"][1]["properties"]["lifecyclestage"] = "fan"
    lines = _error(seed).splitlines()
    assert "hubspot.deals[0].properties.dealstage: 'negotiation' is not a stage of pipeline " \
           "'default'" in lines
    assert "hubspot.deals[2].id: duplicate id 18462730013" in lines
    assert "hubspot.contacts[1].properties.lifecyclestage: unknown lifecycle stage 'fan'" in lines


def test_defaults_fill_the_pipeline_ids_and_single_entry_history() -> None:
    sandbox = HubSpotSandbox({"deals": [{"properties": {"dealname": "No id",
                                                        "dealstage": "qualifiedtobuy",
                                                        "createdate": "2026-01-02T03:04:05Z"}}]})
    store = sandbox.portal.stores["deals"]
    (record,) = store.records.values()
    assert record.id.isdigit() and len(record.id) >= 10
    assert [s["id"] for s in sandbox.portal.pipelines[0]["stages"]][-2:] == ["closedwon", "closedlost"]
    assert [(e.value, e.timestamp.isoformat()) for e in record.history_of("dealstage")] == [
        ("qualifiedtobuy", "2026-01-02T03:04:05+00:00")]
    assert record.values["pipeline"] == "default"


def test_seeded_custom_properties_exist_from_the_start() -> None:
    sandbox = HubSpotSandbox({"deals": [{"properties": {"dealstage": "qualifiedtobuy",
                                                        "journey_stage": "awareness"}}]})
    assert "journey_stage" in sandbox.portal.stores["deals"].properties
    assert "journey_stage" not in sandbox.portal.stores["contacts"].properties
