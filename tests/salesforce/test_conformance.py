"""The sandbox's responses compared field by field with recorded Salesforce responses.

The reference shapes live in ``../shared/specs/salesforce/`` (restforce fixtures and CumulusCI
cassettes recorded against real orgs); they are read at test time, never copied into the repo.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures_salesforce import OPP_ACME, sf_seed
from tests.salesforce.helpers import api, bearer, http

SPECS = Path(__file__).resolve().parents[2] / ".." / "shared" / "specs" / "salesforce"
pytestmark = pytest.mark.skipif(not SPECS.is_dir(), reason=f"reference responses not found at {SPECS}")


def restforce(name: str) -> Any:
    return json.loads((SPECS / "restforce" / name).read_text())


def cassette(name: str) -> list[dict[str, Any]]:
    """The JSON bodies of a CumulusCI cassette's responses, in order."""
    data = yaml.safe_load((SPECS / "cumulusci" / name).read_text())
    interactions = data["interactions"] if "interactions" in data else [data]
    return [json.loads(i["response"]["body"]["string"]) for i in interactions if "response" in i]


@pytest.fixture(scope="module")
def sandbox(make_sf_sandbox):
    return make_sf_sandbox(sf_seed())


def _get(sandbox, path, **kwargs):
    return http(sandbox).get(api(sandbox, path), headers={**bearer(sandbox), **kwargs.pop("headers", {})}, **kwargs)


def test_query_pages_have_the_recorded_keys(sandbox):
    first = _get(sandbox, "query/", params={"q": "SELECT Id FROM Opportunity"},
                 headers={"Sforce-Query-Options": "batchSize=200"}).json()
    reference = restforce("query_success_response.json")
    assert set(first) == set(reference)
    assert set(first["records"][0]["attributes"]) == set(reference["records"][0]["attributes"])
    many = _get(sandbox, "query/", params={"q": "SELECT Id, (SELECT Id FROM OpportunityHistories) FROM Opportunity"})
    nested = next(r["OpportunityHistories"] for r in many.json()["records"] if r["Id"] == OPP_ACME)
    assert set(nested) == set(reference["records"][0]["Whizbangs__r"])
    parent = _get(sandbox, "query/", params={"q": "SELECT Account.Name FROM Opportunity"}).json()["records"][0]
    assert set(parent["Account"]) == {"attributes", "Name"}
    assert set(parent["Account"]["attributes"]) == set(reference["records"][0]["ParentWhizbang__r"]["attributes"])
    empty = _get(sandbox, "query/", params={"q": "SELECT Id FROM Opportunity WHERE Name = 'none'"}).json()
    assert empty == restforce("query_empty_response.json")


def test_paginated_pages_match_first_and_last_recorded_pages(make_sf_sandbox):
    seed = sf_seed()
    seed["leads"] += [{"LastName": f"L{i}", "Company": "C"} for i in range(250)]
    big = make_sf_sandbox(seed)
    first = _get(big, "query/", params={"q": "SELECT Id FROM Lead"},
                 headers={"Sforce-Query-Options": "batchSize=200"}).json()
    assert set(first) == set(restforce("query_paginated_first_page_response.json"))
    last = http(big).get(big.instance_url + first["nextRecordsUrl"], headers=bearer(big)).json()
    assert set(last) == set(restforce("query_paginated_last_page_response.json"))


def test_error_bodies_match_recorded_errors(sandbox):
    bad_field = _get(sandbox, "query/", params={"q": "SELECT Nope FROM Opportunity"}).json()
    assert [set(e) for e in bad_field] == [set(e) for e in restforce("query_error_response.json")]
    missing = _get(sandbox, "sobjects/Whizbang/describe")
    assert missing.status_code == 404 and missing.json() == restforce("sobject_describe_error_response.json")
    expired = http(sandbox).get(api(sandbox, "limits/"), headers={"Authorization": "Bearer nope"})
    assert expired.status_code == 401 and expired.json() == restforce("expired_session_response.json")
    write = http(sandbox).patch(api(sandbox, f"sobjects/Opportunity/{OPP_ACME}"), json={"foo": 1}, headers=bearer(sandbox))
    (reference,) = restforce("write_error_response.json")
    (error,) = write.json()
    assert set(error) == set(reference)
    assert error["message"] == "No such column 'foo' on sobject of type Opportunity"
    unknown_type = _get(sandbox, "query/", params={"q": "select count() from XYZZY"})
    recorded = cassette("TestCountSObjects.test_count_sobjects__errors.yaml")[0]["compositeResponse"][1]["body"][0]
    assert unknown_type.status_code == 400
    assert unknown_type.json()[0]["errorCode"] == recorded["errorCode"]
    assert unknown_type.json()[0]["message"].split("ERROR at")[1] == recorded["message"].split("ERROR at")[1]


def test_composite_and_create_results_match_recorded_results(sandbox):
    recorded = cassette("TestUpdatesIntegrationTests.test_updates_task.yaml")[-1]
    body = {"allOrNone": False, "records": [{"attributes": {"type": "Opportunity"}, "Id": OPP_ACME, "Amount": 1}]}
    answer = http(sandbox).patch(api(sandbox, "composite/sobjects"), json=body, headers=bearer(sandbox)).json()
    assert [set(a) for a in answer] == [set(r) for r in recorded][:1]
    assert set(answer[0]) == set(restforce("composite_sobjects_success_response.json")[0])
    created = http(sandbox).post(api(sandbox, "sobjects/Lead/"), json={"LastName": "New", "Company": "Co"},
                             headers=bearer(sandbox))
    assert created.status_code == 201
    assert set(created.json()) == set(restforce("create_success_response.json"))


@pytest.mark.parametrize("name, field", [("Opportunity", "StageName"), ("Lead", "Status")])
def test_describe_matches_the_recorded_describe(sandbox, name, field):
    (reference,) = cassette(f"GET_sobjects_{name}_describe.yaml")
    ours = _get(sandbox, f"sobjects/{name}/describe").json()
    assert set(ours) == set(reference)
    assert set(ours["urls"]) == set(reference["urls"])
    reference_fields = {f["name"]: f for f in reference["fields"]}
    our_fields = {f["name"]: f for f in ours["fields"]}
    for common in set(reference_fields) & set(our_fields):
        assert set(our_fields[common]) == set(reference_fields[common]), common
        for key in ("type", "soapType", "nillable", "custom", "referenceTo", "relationshipName"):
            assert our_fields[common][key] == reference_fields[common][key], (common, key)
    ours_picklist = our_fields[field]["picklistValues"]
    recorded_picklist = reference_fields[field]["picklistValues"]
    assert [set(p) for p in ours_picklist] == [set(p) for p in recorded_picklist]
    assert [p["value"] for p in ours_picklist] == [p["value"] for p in recorded_picklist]
    assert all(set(rel) == set(reference["childRelationships"][0]) for rel in ours["childRelationships"])
    assert ours["keyPrefix"] == reference["keyPrefix"]


def test_oauth_bodies_match_the_recorded_token_responses(sandbox):
    info = sandbox.info()
    token_url = info["login_url"] + "/services/oauth2/token"
    refreshed = http(sandbox).post(token_url, data={"grant_type": "refresh_token", "client_id": info["client_id"],
                                                "client_secret": info["client_secret"],
                                                "refresh_token": info["refresh_token"]}).json()
    assert set(restforce("refresh_success_response.json")) <= set(refreshed)
    assert set(restforce("auth_success_response.json")) <= set(refreshed)
    refused = http(sandbox).post(token_url, data={"grant_type": "refresh_token", "client_id": info["client_id"],
                                              "refresh_token": "5Aepgone"}).json()
    assert refused == restforce("refresh_error_response.json")
    assert set(refused) == set(restforce("auth_error_response.json"))
