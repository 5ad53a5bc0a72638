"""Day counts as Salesforce formula fields: ``journey provision`` creates them through the Tooling
API (read-only for the permission set), the sandbox evaluates them on every read, and they agree
with the service's own count of days in stage and days over expected. Read back through
simple-salesforce."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connectors.salesforce import SalesforceConnector
from connectors.salesforce.provision import formula_specs
from connectors.salesforce.settings import DEFAULT_FIELD_NAMES
from mapping import classify, default_map, desired_writeback
from mapping.records import CrmRecord, StageChange
from tests.fixtures_salesforce import OPP_ACME, OPP_GLOBEX, sf_control, sf_seed, sf_settings
from tests.salesforce.helpers import simple_sf

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
DAYS = ("Journey_Days_In_Stage__c", "Journey_Days_Over_Expected__c")
FORMULA = {"Journey_Days_In_Stage__c": "FLOOR(NOW() - Journey_Stage_Entered_At__c)",
           "Journey_Days_Over_Expected__c": "IF(ISBLANK(Journey_Stalls_At__c) || NOW() < Journey_Stalls_At__c, 0, "
                                            "FLOOR(NOW() - Journey_Stalls_At__c) + 1)"}


@pytest.fixture()
def sandbox(make_sf_sandbox):
    sandbox = make_sf_sandbox(sf_seed())
    sandbox.org.clock = lambda: NOW  # the org's "now": NOW() in formulas
    SalesforceConnector(sf_settings(sandbox)).provision()
    return sandbox


def test_provisioning_creates_read_only_number_formulas_once(sandbox):
    sf = simple_sf(sandbox)
    for sobject in ("Opportunity", "Lead", "Contact"):
        fields = {f["name"]: f for f in getattr(sf, sobject).describe()["fields"]}
        for name in DAYS:
            f = fields[name]
            assert (f["type"], f["calculated"], f["calculatedFormula"]) == ("double", True, FORMULA[name])
            assert (f["updateable"], f["createable"], f["scale"]) == (False, False, 0)
    tooling = sf.restful("tooling/query/", params={"q": "SELECT Id, DeveloperName, TableEnumOrId FROM CustomField "
                                                          "WHERE DeveloperName = 'Journey_Days_In_Stage'"})
    assert sorted(r["TableEnumOrId"] for r in tooling["records"]) == ["Contact", "Lead", "Opportunity"]
    metadata = sf.restful(f"tooling/sobjects/CustomField/{tooling['records'][0]['Id']}")["Metadata"]
    assert (metadata["type"], metadata["formula"], metadata["scale"]) == ("Number", FORMULA[DAYS[0]], 0)
    grants = sf.query("SELECT Field, PermissionsRead, PermissionsEdit FROM FieldPermissions "
                      "WHERE Field = 'Lead.Journey_Days_Over_Expected__c'")["records"]
    assert [(g["PermissionsRead"], g["PermissionsEdit"]) for g in grants] == [(True, False)]
    sf_control(sandbox, "counters/reset", {})
    again = SalesforceConnector(sf_settings(sandbox)).provision()
    assert not any(f.created for f in again)
    counters = sf_control(sandbox, "counters")
    # nothing written: the one composite call reads the describes
    assert {r for r in counters["by_route"] if r.startswith(("POST", "PATCH"))} == {"POST composite"}
    assert all(r.startswith("GET sobjects/") for r in counters["subrequests"])


def test_the_formulas_count_days_the_way_the_service_does(sandbox):
    """An opportunity 40 days and 3 hours into Negotiation/Review (Purchase, 14 expected days)."""
    jmap = default_map()
    entered = NOW - timedelta(days=40, hours=3)
    record = CrmRecord(crm="salesforce", object="opportunity", id=OPP_ACME, stage_value="Negotiation/Review",
                       created_at=entered, modified_at=entered, history=(StageChange("Negotiation/Review", entered),))
    state = classify(record, jmap, NOW)
    assert (state.stalled, state.days_in_stage, state.days_over) == (True, 40, 26)
    values = desired_writeback(state)
    sf = simple_sf(sandbox)
    sf.Opportunity.update(OPP_ACME, {"Journey_Stage_Entered_At__c": values["stage_entered_at"].isoformat(),
                                     "Journey_Stalls_At__c": values["stalls_at"].isoformat()})
    sf.Opportunity.update(OPP_GLOBEX, {"Journey_Stage_Entered_At__c": (NOW - timedelta(days=2)).isoformat(),
                                       "Journey_Stalls_At__c": (NOW + timedelta(days=5)).isoformat()})

    def read() -> dict:
        rows = sf.query(f"SELECT Id, {', '.join(DAYS)} FROM Opportunity WHERE Id IN ('{OPP_ACME}', '{OPP_GLOBEX}')")
        return {r["Id"]: (r[DAYS[0]], r[DAYS[1]]) for r in rows["records"]}

    assert read() == {OPP_ACME: (state.days_in_stage, state.days_over), OPP_GLOBEX: (2.0, 0.0)}
    assert sf.Opportunity.get(OPP_ACME)[DAYS[1]] == state.days_over
    # a report filter "stalled by more than 25 days" is a plain SOQL filter on the formula
    over = sf.query(f"SELECT Id FROM Opportunity WHERE {DAYS[1]} > 25")["records"]
    assert [r["Id"] for r in over] == [OPP_ACME]
    assert sf.query(f"SELECT Id FROM Opportunity WHERE {DAYS[1]} > 26")["records"] == []
    # time alone moves the numbers: nothing is written
    sandbox.org.clock = lambda: NOW + timedelta(days=1)
    later = classify(record, jmap, NOW + timedelta(days=1))
    assert read() == {OPP_ACME: (later.days_in_stage, later.days_over), OPP_GLOBEX: (3.0, 0.0)}
    # blank dates: no days in stage, zero over (formulaTreatBlanksAs BlankAsZero only zeroes numbers)
    lead = sf.query(f"SELECT {', '.join(DAYS)} FROM Lead LIMIT 1")["records"][0]
    assert (lead[DAYS[0]], lead[DAYS[1]]) == (None, 0.0)


def test_a_formula_field_cannot_be_written_or_granted_edit(sandbox):
    sf = simple_sf(sandbox)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Opportunity.update(OPP_ACME, {DAYS[0]: 3})
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    grant = sf.query("SELECT Id FROM FieldPermissions WHERE Field = 'Opportunity.Journey_Days_In_Stage__c'")
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.FieldPermissions.update(grant["records"][0]["Id"], {"PermissionsEdit": True})
    assert caught.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


@pytest.mark.parametrize("formula, message", [
    ("FLOOR(NOW() - Journey_Stage_Entered_On__c)", "Field Journey_Stage_Entered_On__c does not exist"),
    ("NOW() - Journey_Stage_Entered_At__c + ", "Syntax error"),
    ("Journey_Stage_Entered_At__c", "Formula result is data type (DateTime)"),
    ("TODAY() - Journey_Stage_Entered_At__c", "Incorrect parameter type for operator '-'"),
])
def test_a_formula_salesforce_would_refuse_is_refused(sandbox, formula, message):
    sf = simple_sf(sandbox)
    body = {"FullName": "Opportunity.Odd_Days__c",
            "Metadata": {"label": "Odd", "type": "Number", "precision": 18, "scale": 0, "formula": formula}}
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("tooling/sobjects/CustomField/", method="POST", json=body)
    assert caught.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert message in caught.value.content[0]["message"]


def test_renamed_date_fields_rewrite_the_formulas(sandbox):
    names = {"stalls_at": "Stalls_On__c"}
    SalesforceConnector(sf_settings(sandbox, field_names=names)).provision()
    wanted = formula_specs({**DEFAULT_FIELD_NAMES, **names})[DAYS[1]].metadata["formula"]
    assert "Stalls_On__c" in wanted
    described = {f["name"]: f for f in simple_sf(sandbox).Contact.describe()["fields"]}
    assert described[DAYS[1]]["calculatedFormula"] == wanted
