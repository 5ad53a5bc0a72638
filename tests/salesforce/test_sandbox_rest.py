"""sObject reads and writes, composite collections, describe, Tooling fields, limits and faults."""
from __future__ import annotations

from datetime import datetime

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceExpiredSession, SalesforceGeneralError, SalesforceMalformedRequest, SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from tests.fixtures_salesforce import LEAD_ANA, OPP_ACME, OPP_GLOBEX, OPP_WON, sf_control, sf_seed
from tests.salesforce.helpers import api, bearer, http, simple_sf


@pytest.fixture()
def sandbox(make_sf_sandbox):
    """A fresh sandbox per test: these tests write."""
    return make_sf_sandbox(sf_seed())


def _stamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def test_versions_and_resources_need_no_guessing(sandbox):
    session = http(sandbox)
    versions = session.get(f"{sandbox.instance_url}/services/data/").json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    resources = session.get(api(sandbox, ""), headers=bearer(sandbox)).json()
    assert resources["query"] == "/services/data/v59.0/query"
    assert session.get(api(sandbox, "", version="20.0"), headers=bearer(sandbox)).status_code == 404
    assert simple_sf(sandbox, version="58.0").query("SELECT Id FROM Lead")["totalSize"] == 1


def test_versions_reach_the_current_release_and_no_further(sandbox):
    session = http(sandbox)
    versions = session.get(f"{sandbox.instance_url}/services/data/").json()
    assert versions[-1] == {"label": "Winter '27", "url": "/services/data/v68.0", "version": "68.0"}
    assert {"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"} in versions
    assert {"label": "Summer '26", "url": "/services/data/v67.0", "version": "67.0"} in versions
    assert simple_sf(sandbox, version="68.0").query("SELECT Id FROM Lead")["totalSize"] == 1
    assert session.get(api(sandbox, "", version="69.0"), headers=bearer(sandbox)).status_code == 404


def test_the_connector_speaks_the_current_version_by_default(sandbox):
    from connectors.salesforce import SPEC, SalesforceConnector
    from tests.fixtures_salesforce import sf_settings
    settings = {k: v for k, v in sf_settings(sandbox).items() if k != "api_version"}
    connector = SalesforceConnector(settings)
    assert connector.client.settings.api_version == "68.0"
    assert next(s.default for s in SPEC.settings if s.name == "api_version") == "68.0"
    assert any(r.object == "lead" for r in connector.pull())


def _collection(sandbox, records: list[dict]) -> requests.Response:
    return http(sandbox).patch(api(sandbox, "composite/sobjects"), headers=bearer(sandbox),
                               json={"allOrNone": False, "records": records})


def test_composite_sobjects_processes_at_most_ten_chunks(sandbox):
    """Each run of consecutive records of one type is a chunk; a request holds at most 10."""
    opp = {"attributes": {"type": "Opportunity"}, "Id": OPP_GLOBEX, "Name": "Globex - Pilot"}
    lead = {"attributes": {"type": "Lead"}, "Id": LEAD_ANA, "Title": "CTO"}
    alternating = [dict(opp), dict(lead)] * 5 + [dict(opp)]
    refused = _collection(sandbox, alternating)
    assert refused.status_code == 400
    assert refused.json() == [{"message": "Cannot have more than 10 chunks in a single operation. Please "
                                          "rearrange the data to reduce chunking.",
                               "errorCode": "INVALID_BATCH_REQUEST"}]
    assert sf_control(sandbox, "counters")["record_updates"] == {}
    grouped = _collection(sandbox, [dict(opp)] * 6 + [dict(lead)] * 5)
    assert grouped.status_code == 200 and all(r["success"] for r in grouped.json())


@pytest.mark.parametrize("key", ["id", "ID", "iD"])
def test_composite_sobjects_reads_the_id_field_in_any_case(sandbox, key):
    answer = _collection(sandbox, [{"attributes": {"type": "Lead"}, key: LEAD_ANA, "Title": "CTO"}])
    assert answer.json() == [{"id": LEAD_ANA, "success": True, "errors": []}]
    assert simple_sf(sandbox).Lead.get(LEAD_ANA)["Title"] == "CTO"


def test_an_18_character_id_is_read_in_any_case(sandbox):
    """The checksum suffix of an 18-character id restores its case, as Salesforce does."""
    sf = simple_sf(sandbox)
    assert sf.Opportunity.get(OPP_GLOBEX.lower())["Id"] == OPP_GLOBEX
    answer = _collection(sandbox, [{"attributes": {"type": "Opportunity"}, "Id": OPP_GLOBEX.upper(),
                                    "Name": "Globex - Renamed"}])
    assert answer.json() == [{"id": OPP_GLOBEX, "success": True, "errors": []}]
    assert sf.Opportunity.get(OPP_GLOBEX)["Name"] == "Globex - Renamed"


def test_patch_bumps_stamps_and_a_stage_change_writes_history(sandbox):
    sf = simple_sf(sandbox)
    before = sf.Opportunity.get(OPP_GLOBEX)
    assert sf.Opportunity.update(OPP_GLOBEX, {"StageName": "Qualification", "Amount": 30000}) == 204
    after = sf.Opportunity.get(OPP_GLOBEX)
    assert _stamp(after["SystemModstamp"]) > _stamp(before["SystemModstamp"])
    assert after["LastModifiedDate"] == after["SystemModstamp"] == after["LastStageChangeDate"]
    assert after["Probability"] == 10.0 and after["Amount"] == 30000.0
    rows = sf.query(f"SELECT StageName, CreatedDate FROM OpportunityHistory WHERE OpportunityId = '{OPP_GLOBEX}' "
                    "ORDER BY CreatedDate")["records"]
    assert [r["StageName"] for r in rows] == ["Prospecting", "Qualification"]
    assert rows[-1]["CreatedDate"] == after["LastStageChangeDate"]
    sf.Opportunity.update(OPP_GLOBEX, {"Name": "Globex renamed"})
    assert sf.query(f"SELECT Id FROM OpportunityHistory WHERE OpportunityId = '{OPP_GLOBEX}'")["totalSize"] == 2
    assert sf_control(sandbox, "counters")["record_updates"] == {OPP_GLOBEX: 2}


HISTORY_FIELDS = ("StageName, Amount, ExpectedRevenue, CloseDate, Probability, ForecastCategory, PrevAmount, "
                  "PrevCloseDate, CreatedById, CreatedDate, SystemModstamp, IsDeleted")


@pytest.mark.parametrize("change,expected", [
    ({"Amount": 31000}, {"Amount": 31000.0, "PrevAmount": 24000.0, "ExpectedRevenue": 3100.0}),
    ({"CloseDate": "2027-03-31"}, {"CloseDate": "2027-03-31", "PrevCloseDate": "2027-01-31"}),
    ({"Probability": 35}, {"Probability": 35.0, "ExpectedRevenue": 8400.0}),
])
def test_amount_close_date_and_probability_changes_write_history_like_a_real_org(sandbox, change, expected):
    """Salesforce writes an OpportunityHistory row when Amount, CloseDate, Probability or StageName
    changes, not only on stage moves, with the opportunity's values after the change."""
    sf = simple_sf(sandbox)
    opp = sf.Opportunity.get(OPP_GLOBEX)
    sf.Opportunity.update(OPP_GLOBEX, change)
    rows = sf.query(f"SELECT {HISTORY_FIELDS} FROM OpportunityHistory WHERE OpportunityId = '{OPP_GLOBEX}' "
                    "ORDER BY CreatedDate")["records"]
    assert len(rows) == 2
    latest = {k: v for k, v in rows[-1].items() if k != "attributes"}
    assert latest["StageName"] == opp["StageName"] == "Prospecting"
    assert latest["ForecastCategory"] == "Pipeline" and latest["IsDeleted"] is False
    assert latest["CreatedById"] == opp["CreatedById"] and latest["CreatedDate"] == latest["SystemModstamp"]
    assert {k: latest[k] for k in expected} == expected
    described = {f["name"] for f in sf.OpportunityHistory.describe()["fields"]}
    assert set(HISTORY_FIELDS.split(", ")) <= described and "LastModifiedDate" not in described


def test_single_record_errors(sandbox):
    sf = simple_sf(sandbox)
    with pytest.raises(SalesforceMalformedRequest) as bad_value:
        sf.Opportunity.update(OPP_ACME, {"StageName": "Won-ish"})
    assert bad_value.value.content == [{"message": "Stage: bad value for restricted picklist field: Won-ish",
                                        "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                        "fields": ["StageName"]}]
    with pytest.raises(SalesforceMalformedRequest) as unknown:
        sf.Opportunity.update(OPP_ACME, {"Foo__c": "x"})
    assert unknown.value.content == [{"message": "No such column 'Foo__c' on sobject of type Opportunity",
                                      "errorCode": "INVALID_FIELD"}]
    with pytest.raises(SalesforceMalformedRequest) as read_only:
        sf.Opportunity.update(OPP_ACME, {"IsWon": True})
    assert read_only.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.Opportunity.get("0065g00000NoNeXAAF")
    assert missing.value.content == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
    with pytest.raises(SalesforceMalformedRequest) as lead:
        sf.Lead.update(LEAD_ANA, {"Status": "Hot"})
    assert lead.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_create_returns_the_new_id_and_starts_history(sandbox):
    sf = simple_sf(sandbox)
    created = sf.Opportunity.create({"Name": "Fresh", "StageName": "Prospecting", "CloseDate": "2027-02-01"})
    assert created["success"] is True and created["errors"] == [] and created["id"].startswith("006")
    assert sf.Opportunity.get(created["id"])["IsClosed"] is False
    with pytest.raises(SalesforceMalformedRequest) as history:
        sf.OpportunityHistory.create({"OpportunityId": created["id"], "StageName": "Closed Won"})
    assert history.value.content[0] == {"message": "entity type cannot be inserted: Opportunity History",
                                        "errorCode": "INVALID_TYPE_FOR_OPERATION"}
    with pytest.raises(SalesforceMalformedRequest) as missing:
        sf.Opportunity.create({"Name": "No stage"})
    assert missing.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert "StageName" in missing.value.content[0]["message"]


def _records(*pairs):
    return [{"attributes": {"type": "Opportunity"}, "Id": i, **values} for i, values in pairs]


def test_composite_returns_one_verdict_per_record(sandbox):
    sf = simple_sf(sandbox)
    answer = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": _records(
        (OPP_ACME, {"Amount": 1}),
        ("0065g00000NoNeXAAF", {"Amount": 2}),
        ("not-an-id", {"Amount": 3}),
        (LEAD_ANA, {"Amount": 4}),
        (OPP_GLOBEX, {"StageName": "Nope"}),
    )})
    assert answer[0] == {"id": OPP_ACME, "success": True, "errors": []}
    assert [a["errors"][0]["statusCode"] for a in answer[1:]] == [
        "INVALID_CROSS_REFERENCE_KEY", "MALFORMED_ID", "MALFORMED_ID", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"]
    assert answer[4]["errors"][0]["fields"] == ["StageName"]
    assert sf.Opportunity.get(OPP_ACME)["Amount"] == 1.0


def test_composite_all_or_none_rolls_everything_back(sandbox):
    sf = simple_sf(sandbox)
    answer = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": True, "records": _records(
        (OPP_ACME, {"Amount": 1}), (OPP_GLOBEX, {"StageName": "Nope"}))})
    assert answer[0]["success"] is False
    assert answer[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert sf.Opportunity.get(OPP_ACME)["Amount"] == 180000.0


def test_composite_refuses_more_than_200_records_and_bad_bodies(sandbox):
    sf = simple_sf(sandbox)
    with pytest.raises(SalesforceMalformedRequest) as too_many:
        sf.restful("composite/sobjects", method="PATCH",
                   json={"allOrNone": False, "records": _records(*[(OPP_ACME, {"Amount": i}) for i in range(201)])})
    assert too_many.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    with pytest.raises(SalesforceMalformedRequest) as untyped:
        sf.restful("composite/sobjects", method="PATCH", json={"records": [{"Id": OPP_ACME, "Amount": 1}]})
    assert untyped.value.content[0]["errorCode"] == "INVALID_TYPE"
    with pytest.raises(SalesforceMalformedRequest) as bad_json:
        sf.restful("composite/sobjects", method="PATCH", json={"records": _records((OPP_ACME, {"CloseDate": 5}))})
    assert bad_json.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert sf.Opportunity.get(OPP_ACME)["Amount"] == 180000.0


def test_lock_errors_on_chosen_records_clear_after_the_given_attempts(sandbox):
    sf = simple_sf(sandbox)
    sf_control(sandbox, "faults", {"lock_ids": [OPP_WON], "lock_times": 1})
    body = {"allOrNone": False, "records": _records((OPP_WON, {"Amount": 1}), (OPP_ACME, {"Amount": 1}))}
    first = sf.restful("composite/sobjects", method="PATCH", json=body)
    assert first[0]["errors"] == [{"statusCode": "UNABLE_TO_LOCK_ROW", "fields": [],
                                   "message": f"unable to obtain exclusive access to this record or 1 records: {OPP_WON}"}]
    assert first[1]["success"] is True
    assert all(r["success"] for r in sf.restful("composite/sobjects", method="PATCH", json=body))


def test_describe_lists_picklists_and_children(sandbox):
    sf = simple_sf(sandbox)
    describe = sf.Opportunity.describe()
    stage = next(f for f in describe["fields"] if f["name"] == "StageName")
    assert [p["value"] for p in stage["picklistValues"]][:2] == ["Prospecting", "Qualification"]
    assert stage["restrictedPicklist"] is False
    assert {"childSObject": "OpportunityHistory", "field": "OpportunityId",
            "relationshipName": "OpportunityHistories"}.items() <= next(
        r for r in describe["childRelationships"] if r["relationshipName"] == "OpportunityHistories").items()
    status = next(f for f in sf.Lead.describe()["fields"] if f["name"] == "Status")
    assert [p["value"] for p in status["picklistValues"]] == [
        "Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"]
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("sobjects/Widget__c/describe")


def test_custom_fields_stay_invisible_until_field_level_security_grants_them(sandbox):
    sf = simple_sf(sandbox)
    body = {"FullName": "Opportunity.Journey_Stage__c",
            "Metadata": {"label": "Journey Stage", "type": "Text", "length": 80}}
    created = sf.restful("tooling/sobjects/CustomField/", method="POST", json=body)
    assert created["id"].startswith("00N") and created["success"] is True
    with pytest.raises(SalesforceMalformedRequest) as duplicate:
        sf.restful("tooling/sobjects/CustomField/", method="POST", json=body)
    assert duplicate.value.content[0]["errorCode"] == "DUPLICATE_DEVELOPER_NAME"
    with pytest.raises(SalesforceMalformedRequest) as hidden:
        sf.query("SELECT Journey_Stage__c FROM Opportunity")
    assert hidden.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "Journey_Stage__c" not in {f["name"] for f in sf.Opportunity.describe()["fields"]}
    user_id = sf.oauth2("userinfo")["user_id"]
    perm_set = sf.PermissionSet.create({"Name": "Journey", "Label": "Journey"})["id"]
    sf.PermissionSetAssignment.create({"AssigneeId": user_id, "PermissionSetId": perm_set})
    sf.FieldPermissions.create({"ParentId": perm_set, "SobjectType": "Opportunity",
                                "Field": "Opportunity.Journey_Stage__c", "PermissionsRead": True,
                                "PermissionsEdit": False})
    assert sf.query("SELECT Journey_Stage__c FROM Opportunity")["totalSize"] == 3
    with pytest.raises(SalesforceMalformedRequest) as read_only:
        sf.Opportunity.update(OPP_ACME, {"Journey_Stage__c": "decision"})
    assert read_only.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    (perm,) = sf.query(f"SELECT Id FROM FieldPermissions WHERE ParentId = '{perm_set}'")["records"]
    sf.FieldPermissions.update(perm["Id"], {"PermissionsEdit": True})
    sf.Opportunity.update(OPP_ACME, {"Journey_Stage__c": "decision"})
    assert sf.Opportunity.get(OPP_ACME)["Journey_Stage__c"] == "decision"
    existing = sf.restful("tooling/query/", params={
        "q": "SELECT DeveloperName, TableEnumOrId FROM CustomField WHERE TableEnumOrId = 'Opportunity'"})
    assert [(r["DeveloperName"], r["TableEnumOrId"]) for r in existing["records"]] == [("Journey_Stage", "Opportunity")]


def test_every_response_reports_usage_and_the_quota_ends_in_403(make_sf_sandbox):
    sandbox = make_sf_sandbox(sf_seed(), daily_quota=3)
    session = http(sandbox)
    first = session.get(api(sandbox, "limits/"), headers=bearer(sandbox))
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/3"
    assert first.json()["DailyApiRequests"] == {"Max": 3, "Remaining": 2}
    sf = simple_sf(sandbox)
    sf.query("SELECT Id FROM Lead")
    assert sf.api_usage["api-usage"].used == 2
    sf.query("SELECT Id FROM Lead")
    with pytest.raises(SalesforceRefusedRequest) as refused:
        sf.query("SELECT Id FROM Lead")
    assert refused.value.content == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert sf_control(sandbox, "counters")["api_usage"] == {"used": 3, "limit": 3}


def test_unknown_and_expired_tokens_get_invalid_session_id(make_sf_sandbox):
    sandbox = make_sf_sandbox(sf_seed())
    with pytest.raises(SalesforceExpiredSession) as unknown:
        simple_sf(sandbox, token="00D!forged").query("SELECT Id FROM Lead")
    assert unknown.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    sf = simple_sf(sandbox)
    sf.query("SELECT Id FROM Lead")
    assert sf_control(sandbox, "expire-tokens", {})["expired"] >= 1
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Lead")
    assert sf_control(sandbox, "counters")["api_usage"]["used"] == 1


def test_injected_503s_and_counters_by_route(make_sf_sandbox):
    sandbox = make_sf_sandbox(sf_seed())
    sf = simple_sf(sandbox)
    sf.query("SELECT Id FROM Lead")
    sf.Lead.get(LEAD_ANA)
    counters = sf_control(sandbox, "counters")
    assert counters["by_route"] == {"GET query/": 1, "GET sobjects/<name>/<record_id>": 1}
    sf_control(sandbox, "faults", {"error_503_share": 1.0, "latency_ms": 1})
    with pytest.raises(SalesforceGeneralError) as unavailable:
        sf.query("SELECT Id FROM Lead")
    assert unavailable.value.status == 503
    assert unavailable.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    reset = sf_control(sandbox, "counters/reset", {})
    assert (reset["calls"], reset["error_503_share"], reset["latency_ms"]) == (0, 1.0, 1.0)
    bad = http(sandbox).post(f"{sandbox.instance_url}/__sandbox__/faults", json={"latency": 5})
    assert bad.status_code == 400 and "unknown fault setting(s): latency" in bad.json()["error"]


def test_move_simulates_a_rep_changing_the_stage(sandbox):
    moved = sf_control(sandbox, "move", {"object": "opportunity", "id": OPP_GLOBEX, "stage": "Closed Lost"})
    assert moved["StageName"] == "Closed Lost"
    record = simple_sf(sandbox).Opportunity.get(OPP_GLOBEX)
    assert (record["IsClosed"], record["IsWon"], record["SystemModstamp"]) == (True, False, moved["SystemModstamp"])
    bad = http(sandbox).post(f"{sandbox.instance_url}/__sandbox__/move", json={"object": "opportunity", "id": OPP_GLOBEX, "stage": "Lost"})
    assert bad.status_code == 400
    assert bad.json()[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    old_body = http(sandbox).post(f"{sandbox.instance_url}/__sandbox__/move", json={"Id": OPP_GLOBEX})
    assert old_body.status_code == 400 and "object is required" in old_body.json()["error"]


def test_custom_restricted_picklists_and_checkbox_defaults(sandbox):
    sf = simple_sf(sandbox)
    for name, metadata in (("Tier__c", {"type": "Picklist", "label": "Tier", "valueSet": {
            "restricted": True, "valueSetDefinition": {"value": [{"fullName": "Gold"}, {"fullName": "Silver"}]}}}),
                           ("Flag__c", {"type": "Checkbox", "label": "Flag", "defaultValue": "false"})):
        sf.restful("tooling/sobjects/CustomField/", method="POST",
                   json={"FullName": f"Opportunity.{name}", "Metadata": metadata})
    user_id = sf.oauth2("userinfo")["user_id"]
    perm_set = sf.PermissionSet.create({"Name": "P", "Label": "P"})["id"]
    sf.PermissionSetAssignment.create({"AssigneeId": user_id, "PermissionSetId": perm_set})
    answer = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": [
        {"attributes": {"type": "FieldPermissions"}, "ParentId": perm_set, "SobjectType": "Opportunity",
         "Field": f"Opportunity.{name}", "PermissionsRead": True, "PermissionsEdit": True}
        for name in ("Tier__c", "Flag__c")]})
    assert all(a["success"] for a in answer)
    assert sf.Opportunity.get(OPP_ACME)["Flag__c"] is False
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.Opportunity.update(OPP_ACME, {"Tier__c": "Bronze"})
    assert bad.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    sf.Opportunity.update(OPP_ACME, {"Tier__c": "Gold", "Flag__c": True})
    assert sf.query("SELECT count() FROM Opportunity WHERE Tier__c = 'gold' AND Flag__c = true") == {
        "totalSize": 1, "done": True, "records": []}
