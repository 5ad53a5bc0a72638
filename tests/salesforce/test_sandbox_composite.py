"""``POST composite`` through simple-salesforce over TLS: one API call for up to 25 subrequests,
at most 5 of them collections or queries, references between them, allOrNone."""
from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from tests.fixtures_salesforce import LEAD_ANA, OPP_ACME, OPP_GLOBEX, OPP_WON, sf_control, sf_seed
from tests.salesforce.helpers import simple_sf

V = "/services/data/v59.0"


@pytest.fixture()
def sandbox(make_sf_sandbox):
    """A fresh sandbox per test: these tests write."""
    return make_sf_sandbox(sf_seed())


def _patch(ref: str, *pairs: tuple[str, dict]) -> dict:
    return {"method": "PATCH", "url": f"{V}/composite/sobjects", "referenceId": ref,
            "body": {"allOrNone": False, "records": [{"attributes": {"type": "Opportunity"}, "Id": i, **values}
                                                     for i, values in pairs]}}


def _composite(sandbox, subrequests: list[dict], **options) -> list[dict]:
    answer = simple_sf(sandbox).restful("composite", method="POST",
                                        json={"compositeRequest": subrequests, **options})
    return answer["compositeResponse"]


def test_five_collections_are_one_api_call(sandbox):
    before = sf_control(sandbox, "counters")
    results = _composite(sandbox, [_patch(f"w{n}", (OPP_ACME, {"Amount": n})) for n in range(1, 5)]
                         + [_patch("w5", (OPP_GLOBEX, {"Amount": 5}), ("0065g00000NoNeXAAF", {"Amount": 6}))])
    after = sf_control(sandbox, "counters")
    assert after["api_usage"]["used"] - before["api_usage"]["used"] == 1
    assert after["by_route"] == {"POST composite": 1}
    assert after["subrequests"] == {"PATCH composite/sobjects": 5}
    assert [r["referenceId"] for r in results] == ["w1", "w2", "w3", "w4", "w5"]
    assert results[0] == {"body": [{"id": OPP_ACME, "success": True, "errors": []}], "httpHeaders": {},
                          "httpStatusCode": 200, "referenceId": "w1"}
    # A record a collection refuses is its own verdict inside a 200 subrequest; the rest is written.
    assert results[4]["httpStatusCode"] == 200
    assert [r["success"] for r in results[4]["body"]] == [True, False]
    assert results[4]["body"][1]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert after["record_updates"][OPP_ACME] == 4
    assert simple_sf(sandbox).Opportunity.get(OPP_ACME)["Amount"] == 4.0


def test_limits_refuse_the_whole_request_before_anything_runs(sandbox):
    sf = simple_sf(sandbox)
    six = [_patch(f"w{n}", (OPP_ACME, {"Amount": n})) for n in range(6)]
    with pytest.raises(SalesforceMalformedRequest) as too_heavy:
        sf.restful("composite", method="POST", json={"compositeRequest": six})
    [refusal] = too_heavy.value.content["compositeResponse"]
    assert (refusal["httpStatusCode"], refusal["referenceId"], refusal["body"][0]["errorCode"]) == (
        400, None, "LIMIT_EXCEEDED")
    gets = [{"method": "GET", "url": f"{V}/sobjects/Opportunity/{OPP_ACME}", "referenceId": f"g{n}"}
            for n in range(26)]
    with pytest.raises(SalesforceMalformedRequest) as too_many:
        sf.restful("composite", method="POST", json={"compositeRequest": gets})
    assert too_many.value.content["compositeResponse"][0]["body"] == [
        {"errorCode": "LIMIT_EXCEEDED", "message": "The request can’t contain more than 25 operations."}]
    assert len(_composite(sandbox, gets[:25])) == 25  # 25 plain sObject reads are fine
    assert sf_control(sandbox, "counters")["record_updates"] == {}


def test_six_query_operations_are_too_many_but_five_are_one_call(sandbox):
    query = {"method": "GET", "url": f"{V}/query/?q=SELECT+Id+FROM+Lead"}
    with pytest.raises(SalesforceMalformedRequest):
        _composite(sandbox, [{**query, "referenceId": f"q{n}"} for n in range(6)])
    results = _composite(sandbox, [{**query, "referenceId": f"q{n}"} for n in range(5)])
    assert [r["body"]["records"][0]["Id"] for r in results] == [LEAD_ANA] * 5


@pytest.mark.parametrize("body, where", [
    ({"compositeRequest": []}, "compositeRequest"),
    ({"compositeRequest": [{"method": "get", "url": f"{V}/limits", "referenceId": "a"}]}, "method"),
    ({"compositeRequest": [{"method": "GET", "referenceId": "a"}]}, "url"),
    ({"compositeRequest": [{"method": "GET", "url": f"{V}/query/?q=SELECT+Id+FROM+Lead", "referenceId": "a-b"}]},
     "referenceId"),
    ({"compositeRequest": [{"method": "GET", "url": f"{V}/query/?q=SELECT+Id+FROM+Lead", "referenceId": "a"}] * 2},
     "used twice"),
    ({"compositeRequest": [{"method": "GET", "url": f"{V}/query/?q=SELECT+Id+FROM+Lead", "referenceId": "a",
                            "httpHeaders": {"Authorization": "Bearer x"}}]}, "inherit"),
    ({"allOrNone": "yes", "compositeRequest": [{"method": "GET", "url": f"{V}/query/?q=SELECT+Id+FROM+Lead",
                                                 "referenceId": "a"}]}, "allOrNone"),
])
def test_malformed_requests_are_a_400_saying_where(sandbox, body, where):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        simple_sf(sandbox).restful("composite", method="POST", json=body)
    assert where in refused.value.content[0]["message"]


def test_references_chain_query_more_pages(sandbox):
    """A query's ``nextRecordsUrl`` feeds the next subrequest; past the last page the reference
    names nothing and the dependent subrequest halts, while independent ones still run."""
    headers = {"Sforce-Query-Options": "batchSize=200"}
    soql = "SELECT+Id+FROM+Opportunity+ORDER+BY+Id"
    results = _composite(sandbox, [
        {"method": "GET", "url": f"{V}/query/?q={soql}", "referenceId": "p1", "httpHeaders": headers},
        {"method": "GET", "url": "@{p1.nextRecordsUrl}", "referenceId": "p2"},
        {"method": "GET", "url": f"{V}/sobjects/Opportunity/@{{p1.records[0].Id}}?fields=Name",
         "referenceId": "first"},
    ])
    assert results[0]["httpStatusCode"] == 200 and results[0]["body"]["done"] is True
    assert results[1] == {"body": [{"errorCode": "PROCESSING_HALTED", "message": "Invalid reference specified. "
                                    "No value for p1.nextRecordsUrl found in p1"}],
                          "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "p2"}
    assert results[2]["body"]["Name"] == "Acme - Platform"
    assert sf_control(sandbox, "counters")["subrequests"] == {"GET query/": 1, "GET sobjects/Opportunity/"
                                                              f"{OPP_ACME}": 1}


def test_a_query_more_locator_pages_inside_composite(sandbox):
    """Three opportunities at the smallest batch cannot page; a locator of a larger query can, and
    ``@{ref.nextRecordsUrl}`` follows it (the sandbox's minimum batch is 200, so this pages the
    query engine's own cursor over many history rows)."""
    sf = simple_sf(sandbox)
    for amount in range(1, 251):
        sf.Opportunity.update(OPP_ACME, {"Amount": amount})  # 250 history rows
    soql = f"SELECT+Id,Amount+FROM+OpportunityHistory+WHERE+OpportunityId='{OPP_ACME}'+ORDER+BY+CreatedDate"
    results = _composite(sandbox, [
        {"method": "GET", "url": f"{V}/query/?q={soql}", "referenceId": "p1",
         "httpHeaders": {"Sforce-Query-Options": "batchSize=200"}},
        {"method": "GET", "url": "@{p1.nextRecordsUrl}", "referenceId": "p2"},
    ])
    first, second = (r["body"] for r in results)
    assert (len(first["records"]), first["done"]) == (200, False)
    assert second["done"] is True and len(first["records"]) + len(second["records"]) == first["totalSize"]
    assert sf_control(sandbox, "counters")["subrequests"]["GET query/{locator}"] == 1


def test_a_failed_subrequest_does_not_stop_the_others_unless_all_or_none(sandbox):
    missing = {"method": "GET", "url": f"{V}/sobjects/Opportunity/0065g00000NoNeXAAF", "referenceId": "gone"}
    update = {"method": "PATCH", "url": f"{V}/sobjects/Opportunity/{OPP_WON}", "referenceId": "upd",
              "body": {"Amount": 7}}
    results = _composite(sandbox, [missing, update])
    assert results[0]["httpStatusCode"] == 404
    assert results[0]["body"] == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
    assert (results[1]["httpStatusCode"], results[1]["body"]) == (204, None)
    assert simple_sf(sandbox).Opportunity.get(OPP_WON)["Amount"] == 7.0

    rolled = _composite(sandbox, [{**update, "body": {"Amount": 8}}, missing], allOrNone=True)
    assert rolled[0] == {"body": [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back "
                                   "since another operation in the same transaction failed."}],
                         "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "upd"}
    assert rolled[1]["httpStatusCode"] == 404
    assert simple_sf(sandbox).Opportunity.get(OPP_WON)["Amount"] == 7.0


def test_created_records_answer_201_with_their_location(sandbox):
    results = _composite(sandbox, [
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "acct", "body": {"Name": "Initech"}},
        {"method": "POST", "url": f"{V}/sobjects/Contact", "referenceId": "who",
         "body": {"LastName": "Lumbergh", "AccountId": "@{acct.id}"}},
    ])
    account_id = results[0]["body"]["id"]
    assert results[0]["httpStatusCode"] == 201
    assert results[0]["httpHeaders"] == {"Location": f"{V}/sobjects/Account/{account_id}"}
    contact = simple_sf(sandbox).Contact.get(results[1]["body"]["id"])
    assert contact["AccountId"] == account_id


def test_unsupported_resources_and_old_versions(sandbox):
    results = _composite(sandbox, [{"method": "GET", "url": f"{V}/limits", "referenceId": "lim"},
                                   {"method": "PATCH", "url": "/services/data/v42.0/composite/sobjects",
                                    "referenceId": "old", "body": {"records": []}}])
    assert [r["httpStatusCode"] for r in results] == [404, 404]
    with pytest.raises(SalesforceResourceNotFound):
        simple_sf(sandbox, version="37.0").restful("composite", method="POST", json={"compositeRequest": [
            {"method": "GET", "url": "/services/data/v37.0/query/?q=SELECT+Id+FROM+Lead", "referenceId": "a"}]})


def test_a_sixth_query_operation_reached_through_a_reference_is_refused_alone(make_sf_sandbox):
    """Only the first url is literal; the chained ones are known once resolved: five page, the
    sixth is refused on its own and does not run."""
    seed = sf_seed()
    seed["opportunities"] += [{"Name": f"Deal {i}", "StageName": "Prospecting", "CloseDate": "2027-01-01"}
                              for i in range(1300)]
    sandbox = make_sf_sandbox(seed)
    chain = [{"method": "GET", "url": f"{V}/query/?q=SELECT+Id+FROM+Opportunity", "referenceId": "p0",
              "httpHeaders": {"Sforce-Query-Options": "batchSize=200"}}]
    chain += [{"method": "GET", "url": f"@{{p{n - 1}.nextRecordsUrl}}", "referenceId": f"p{n}"} for n in range(1, 7)]
    results = _composite(sandbox, chain)
    assert [r["httpStatusCode"] for r in results] == [200] * 5 + [400, 400]
    assert results[5]["body"][0]["errorCode"] == "LIMIT_EXCEEDED"
    assert results[6]["body"][0]["errorCode"] == "PROCESSING_HALTED"  # its reference names a refused page
    assert sf_control(sandbox, "counters")["subrequests"] == {"GET query/": 1, "GET query/{locator}": 4}


def test_a_query_timing_out_fails_alone_and_halts_what_refers_to_it(sandbox):
    """First pages of several queries in one call: the one Salesforce times out answers its own
    400 QUERY_TIMEOUT, a page referring to it halts, the others answer their pages."""
    sf_control(sandbox, "faults", {"slow_objects": ["Lead"], "slow_times": 1})
    results = _composite(sandbox, [
        {"method": "GET", "url": f"{V}/query/?q=SELECT+Id+FROM+Opportunity", "referenceId": "opps"},
        {"method": "GET", "url": f"{V}/query/?q=SELECT+Id+FROM+Lead", "referenceId": "leads"},
        {"method": "GET", "url": "@{leads.nextRecordsUrl}", "referenceId": "leads2"},
        {"method": "GET", "url": f"{V}/query/?q=SELECT+Id+FROM+Contact", "referenceId": "contacts"},
    ], allOrNone=False)
    assert [r["httpStatusCode"] for r in results] == [200, 400, 400, 200]
    assert results[1]["body"] == [{"errorCode": "QUERY_TIMEOUT",
                                   "message": "Your query request was running for too long."}]
    assert results[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert results[0]["body"]["totalSize"] == 3 and results[3]["body"]["totalSize"] == 2
    # once (slow_times): the same query answers now
    assert simple_sf(sandbox).query("SELECT Id FROM Lead")["records"][0]["Id"] == LEAD_ANA


def test_a_query_locator_unused_too_long_is_gone(sandbox):
    sf = simple_sf(sandbox)
    for amount in range(1, 251):
        sf.Opportunity.update(OPP_ACME, {"Amount": amount})  # 250 history rows: two pages of 200
    soql = "SELECT Id FROM OpportunityHistory ORDER BY CreatedDate"
    first = sf.query(soql, headers={"Sforce-Query-Options": "batchSize=200"})
    assert sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)["done"] is True
    sf_control(sandbox, "faults", {"locator_idle_seconds": 0})  # Salesforce's 15 minutes, gone by
    with pytest.raises(SalesforceMalformedRequest) as gone:
        sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert gone.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
