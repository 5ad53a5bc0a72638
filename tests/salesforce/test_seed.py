"""Seed validation and id generation of the Salesforce sandbox (no server needed)."""
from __future__ import annotations

import pytest

from connectors.salesforce.sandbox.ids import IdFactory, checksum_suffix, to18
from connectors.salesforce.sandbox.org import Org
from connectors.seedfile import SeedError
from tests.fixtures_salesforce import OPP_ACME, sf_seed


def _error(seed: dict) -> str:
    with pytest.raises(SeedError) as info:
        Org(seed)
    return str(info.value)


def test_unknown_key_is_reported_with_its_path():
    seed = sf_seed()
    seed["opportunities"][1]["StageNme"] = "Prospecting"
    assert _error(seed) == "salesforce.opportunities[1].StageNme: unknown key"


def test_every_problem_is_listed_at_once():
    seed = sf_seed()
    seed["opportunities"][0]["Amoun"] = 1
    del seed["leads"][0]["Company"]
    seed["contacts"][1]["Foo"] = "x"
    lines = _error(seed).splitlines()
    assert lines == [
        "salesforce.opportunities[0].Amoun: unknown key",
        "salesforce.leads[0].Company: Field required",
        "salesforce.contacts[1].Foo: unknown key",
    ]


def test_history_must_end_in_the_current_stage_and_run_oldest_first():
    seed = sf_seed()
    history = seed["opportunities"][0]["history"]
    history[0], history[1] = history[1], history[0]
    history.append({"StageName": "Closed Won", "CreatedDate": "2026-10-01T00:00:00Z"})
    message = _error(seed)
    assert "salesforce.opportunities[0].history[1].CreatedDate: history must be oldest first" in message
    assert ("salesforce.opportunities[0].history[3].StageName: the last entry 'Closed Won' must equal the "
            "current StageName 'Negotiation/Review'") in message


def test_unknown_stage_status_and_dangling_references_are_errors():
    seed = sf_seed()
    seed["opportunities"][1]["StageName"] = "Discovery"
    seed["opportunities"][1]["AccountId"] = "0015g00000NoNeXAAV"
    seed["leads"][0]["Status"] = "Hot"
    seed["opportunity_contact_roles"][0]["ContactId"] = "0035g00000NoNeXAAB"
    message = _error(seed)
    assert "salesforce.opportunities[1].StageName: 'Discovery' is not an opportunity stage" in message
    assert "salesforce.opportunities[1].AccountId: no account with id '0015g00000NoNeXAAV'" in message
    assert "salesforce.leads[0].Status: 'Hot' is not a lead status" in message
    assert "salesforce.opportunity_contact_roles[0].ContactId: no contact with id" in message


def test_ids_must_have_the_objects_key_prefix_and_be_unique():
    seed = sf_seed()
    seed["contacts"][0]["Id"] = OPP_ACME
    seed["opportunities"][1]["Id"] = OPP_ACME
    message = _error(seed)
    assert f"salesforce.contacts[0].Id: '{OPP_ACME}' does not start with the Contact key prefix '003'" in message
    assert f"salesforce.opportunities[1].Id: duplicate id '{OPP_ACME}'" in message


def test_timestamps_need_a_zone():
    seed = sf_seed()
    seed["leads"][0]["CreatedDate"] = "2026-10-02T08:00:00"
    assert "salesforce.leads[0].CreatedDate: Input should have timezone info" in _error(seed)


def test_stock_stages_and_generated_ids_when_the_seed_leaves_them_out():
    org = Org({"opportunities": [{"Name": "New", "StageName": "Needs Analysis", "CloseDate": "2027-01-01"}],
               "leads": [{"LastName": "Doe", "Company": "ACME"}]})
    stages = sorted(org.records["OpportunityStage"].values(), key=lambda s: s["SortOrder"])
    assert [s["ApiName"] for s in stages][:3] == ["Prospecting", "Qualification", "Needs Analysis"]
    assert [(s["ApiName"], s["IsClosed"], s["IsWon"]) for s in stages[-2:]] == [
        ("Closed Won", True, True), ("Closed Lost", True, False)]
    (opp,) = org.records["Opportunity"].values()
    (lead,) = org.records["Lead"].values()
    assert len(opp["Id"]) == 18 and opp["Id"].startswith("006")
    assert len(lead["Id"]) == 18 and lead["Id"].startswith("00Q")
    assert lead["Status"] == "Open - Not Contacted"
    (history,) = org.records["OpportunityHistory"].values()
    assert (history["StageName"], history["CreatedDate"]) == ("Needs Analysis", opp["CreatedDate"])
    assert opp["LastStageChangeDate"] is None


def test_custom_fields_named_by_the_seed_exist_from_the_start():
    seed = sf_seed()
    seed["opportunities"][0]["Journey_Stage__c"] = "decision"
    org = Org(seed)
    obj = org.schema["Opportunity"]
    assert org.visible_field(obj, "Journey_Stage__c") is not None
    assert org.records["Opportunity"][OPP_ACME]["Journey_Stage__c"] == "decision"
    assert org.records["Opportunity"][to18("0065g00000XyZ02")]["Journey_Stage__c"] is None


def test_checksum_suffix_encodes_upper_case_positions():
    assert checksum_suffix("001000000000000") == "AAA"
    assert checksum_suffix("ABCDE0000000000") == "5AA"
    assert checksum_suffix("A0000B00000000C") == "BBQ"
    made = IdFactory().new("Opportunity")
    assert made[:3] == "006" and made[15:] == checksum_suffix(made[:15])
