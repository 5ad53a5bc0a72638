"""Coverage: the CRM's real stages the map leaves unmapped, and map entries the CRM lacks."""
from __future__ import annotations

import json

from mapping import CrmStage, coverage, default_map
from tests.mapping.helpers import small_map
from tests.mapping.test_mapfile import HS_DEAL_STAGES, SF_OPPORTUNITY_STAGES


def sf_stages() -> list[CrmStage]:
    return [CrmStage("opportunity", value, value, is_closed=value.startswith("Closed"), is_won=value == "Closed Won")
            for value in SF_OPPORTUNITY_STAGES]


def test_real_stages_are_split_into_mapped_and_unmapped():
    report = coverage(small_map(), "salesforce", sf_stages())
    (group,) = report.groups
    assert (group.object, group.pipeline, group.has_source) == ("opportunity", None, True)
    assert [(m.value, m.journey_stage) for m in group.mapped] == [
        ("Prospecting", "awareness"), ("Qualification", "consideration"), ("Needs Analysis", "consideration"),
        ("Closed Lost", "lost")]
    assert [ref.value for ref in report.unmapped] == [
        "Value Proposition", "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote",
        "Negotiation/Review", "Closed Won"]
    assert not report.complete


def test_map_entries_naming_stages_the_crm_lacks_are_reported():
    report = coverage(small_map(), "salesforce", sf_stages())
    assert [(note.path, note.journey_stage, note.reason) for note in report.unknown] == [
        ("sources.salesforce.opportunity.stages.Proposal", "decision", "the CRM has no such stage")]


def test_pipelines_are_checked_one_by_one():
    refs = [CrmStage("deal", value, value, pipeline="default") for value in HS_DEAL_STAGES]
    report = coverage(small_map(), "hubspot", refs)
    assert [ref.value for ref in report.unmapped] == [
        "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin", "closedwon"]
    assert [(note.path, note.reason) for note in report.unknown] == [
        ("sources.hubspot.deal.pipelines.renewals[\"123\"]", "the CRM has no such pipeline"),
        ("sources.hubspot.deal.pipelines.renewals.closedlost", "the CRM has no such pipeline")]


def test_objects_without_a_source_are_all_unmapped_and_unlisted_objects_are_unchecked():
    report = coverage(small_map(), "salesforce", [CrmStage("lead", "Open - Not Contacted", "Open")])
    (group,) = report.groups
    assert (group.object, group.has_source, [r.value for r in group.unmapped]) == (
        "lead", False, ["Open - Not Contacted"])
    assert report.unchecked_objects == ["opportunity"]


def test_a_closed_lost_stage_mapped_to_a_journey_stage_is_flagged():
    refs = [CrmStage("opportunity", "Prospecting", "Prospecting", is_closed=True)]
    report = coverage(small_map(), "salesforce", refs)
    assert [(n.value, n.journey_stage) for n in report.lost_not_exit] == [("Prospecting", "awareness")]


def test_default_map_covers_the_stock_salesforce_stages_completely():
    report = coverage(default_map(), "salesforce", sf_stages())
    assert report.complete
    assert report.lost_not_exit == []
    assert report.unchecked_objects == ["lead"]


def test_report_is_json_serialisable():
    data = json.loads(json.dumps(coverage(small_map(), "salesforce", sf_stages()).to_dict()))
    assert data["complete"] is False
    assert len(data["unmapped"]) == 6
    assert data["groups"][0]["mapped"][0] == {"value": "Prospecting", "label": "Prospecting",
                                              "journey_stage": "awareness"}
