"""Bulk API 2.0 in the sandbox, through simple-salesforce's bulk2 client over HTTPS: query jobs
with locator pages, what Bulk 2.0 refuses, ingest jobs with per-record results, aborts."""
from __future__ import annotations

import base64
import csv
import io
import time

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from tests.fixtures_salesforce import sf_control
from tests.salesforce.helpers import api, bearer, http, simple_sf

VERSION = "68.0"


def _seed(n: int) -> dict:
    return {"opportunities": [{"Name": f"Deal {i:03d}", "StageName": "Prospecting", "CloseDate": "2027-01-01",
                               "Amount": 1000 + i, "LeadSource": "Web", "CreatedDate": "2026-01-01T00:00:00Z"}
                              for i in range(n)]}


@pytest.fixture(scope="module")
def box(make_sf_sandbox):
    return make_sf_sandbox(_seed(25))


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_query_job_pages_with_locators_and_counts_each_call(box):
    sf = simple_sf(box, version=VERSION)
    sf_control(box, "counters/reset", {})
    pages = list(sf.bulk2.Opportunity.query("SELECT Id, Name, Amount, IsClosed, CreatedDate FROM Opportunity",
                                            max_records=10))
    rows = [row for page in pages for row in _rows(page)]
    assert [len(_rows(p)) for p in pages] == [10, 10, 5]
    assert sorted(r["Name"] for r in rows) == [f"Deal {i:03d}" for i in range(25)]
    first = next(r for r in rows if r["Name"] == "Deal 003")
    assert (first["Amount"], first["IsClosed"], first["CreatedDate"]) == ("1003.0", "false",
                                                                         "2026-01-01T00:00:00.000Z")
    routes = sf_control(box, "counters")["by_route"]
    assert routes["POST jobs/query"] == 1 and routes["GET jobs/query/<job_id>/results"] == 3
    assert routes["GET jobs/query/<job_id>"] >= 1


def test_results_headers_locator_and_bad_locator(box):
    session = http(box)
    job = session.post(api(box, "jobs/query", VERSION), headers=bearer(box),
                       json={"operation": "query", "query": "SELECT Id FROM Opportunity"}).json()
    assert (job["state"], job["object"], job["jobType"]) == ("UploadComplete", "Opportunity", "V2Query")
    url = api(box, f"jobs/query/{job['id']}", VERSION)
    for _ in range(100):
        if session.get(url, headers=bearer(box)).json()["state"] == "JobComplete":
            break
        time.sleep(0.02)
    page = session.get(url + "/results", headers=bearer(box), params={"maxRecords": 20})
    assert page.headers["Sforce-NumberOfRecords"] == "20"
    assert base64.b64decode(page.headers["Sforce-Locator"]) == b"20"
    last = session.get(url + "/results", headers=bearer(box),
                       params={"maxRecords": 20, "locator": page.headers["Sforce-Locator"]})
    assert (last.headers["Sforce-NumberOfRecords"], last.headers["Sforce-Locator"]) == ("5", "null")
    assert last.text.splitlines()[0] == '"Id"'
    bad = session.get(url + "/results", headers=bearer(box), params={"locator": "bm9wZQ=="})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_LOCATOR"
    assert session.delete(url, headers=bearer(box)).status_code == 204
    gone = session.get(url, headers=bearer(box))
    assert gone.status_code == 404 and gone.json() == [{"message": "The requested resource does not exist",
                                                        "errorCode": "NOT_FOUND"}]


@pytest.mark.parametrize("soql, message", [
    ("SELECT Id, (SELECT StageName FROM OpportunityHistories) FROM Opportunity",
     "Aggregate Relationships not supported in Bulk V2 Query with CSV content type"),
    ("SELECT COUNT() FROM Opportunity", "Aggregate queries are not supported in Bulk V2 Query"),
])
def test_query_jobs_refuse_subqueries_and_aggregates(box, soql, message):
    sf = simple_sf(box, version=VERSION)
    with pytest.raises(SalesforceMalformedRequest) as refused:
        list(sf.bulk2.Opportunity.query(soql))
    assert refused.value.content == [{"message": message, "errorCode": "API_ERROR"}]


def test_query_job_refuses_unknown_fields_at_creation(box):
    sf = simple_sf(box, version=VERSION)
    with pytest.raises(SalesforceMalformedRequest) as refused:
        list(sf.bulk2.Opportunity.query("SELECT Id, Nope__c FROM Opportunity"))
    assert refused.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_ingest_job_reports_each_record_and_clears_with_na(box):
    sf = simple_sf(box, version=VERSION)
    ids = [r["Id"] for r in sf.query("SELECT Id FROM Opportunity ORDER BY Name LIMIT 3")["records"]]
    jobs = sf.bulk2.Opportunity._client
    job = jobs.create_job("update")
    assert job["state"] == "Open"
    jobs.upload_job_data(job["id"], "Id,Amount,StageName,LeadSource\n"
                                    f"{ids[0]},5,Closed Won,#N/A\n{ids[1]},,Nope,Web\n006000000000000AAA,1,,\n")
    assert jobs.close_job(job["id"])["state"] == "UploadComplete"
    jobs.wait_for_job(job["id"], False, wait=0.05)
    info = jobs.get_job(job["id"], False)
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (3, 1 + 1)
    ok = _rows(jobs.get_ingest_results(job["id"], "successfulResults"))
    assert [(r["sf__Id"], r["sf__Created"], r["Id"]) for r in ok] == [(ids[0], "false", ids[0])]
    failed = _rows(jobs.get_ingest_results(job["id"], "failedResults"))
    assert [(r["Id"], r["sf__Error"]) for r in failed] == [
        (ids[1], "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Stage: bad value for restricted picklist field: "
                 "Nope:StageName --"),
        ("006000000000000AAA", "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id: --")]
    record = sf.Opportunity.get(ids[0])  # #N/A cleared LeadSource
    assert (record["Amount"], record["StageName"], record["LeadSource"]) == (5.0, "Closed Won", None)
    assert sf.Opportunity.get(ids[1])["Amount"] == 1001.0  # a failed row changes nothing


def test_ingest_job_with_an_unknown_column_fails_whole(box):
    sf = simple_sf(box, version=VERSION)
    jobs = sf.bulk2.Opportunity._client
    job = jobs.create_job("update")
    jobs.upload_job_data(job["id"], "Id,Nope__c\n006000000000000AAA,1\n")
    jobs.close_job(job["id"])
    with pytest.raises(Exception, match="Field name not found : Nope__c"):
        jobs.wait_for_job(job["id"], False, wait=0.05)
    assert jobs.get_job(job["id"], False)["state"] == "Failed"


def test_abort_stops_queued_jobs_and_leaves_rows_unprocessed(make_sf_sandbox):
    slow = make_sf_sandbox(_seed(3), bulk_delay_ms=1500)
    sf = simple_sf(slow, version=VERSION)
    queries = sf.bulk2.Opportunity._client
    job = queries.create_job("query", "SELECT Id FROM Opportunity")
    assert queries.abort_job(job["id"], True)["state"] == "Aborted"
    time.sleep(1.7)  # the queued job would have run by now
    assert queries.get_job(job["id"], True)["state"] == "Aborted"
    with pytest.raises(SalesforceMalformedRequest) as refused:
        queries.get_query_results(job["id"])
    assert refused.value.content[0]["errorCode"] == "INVALIDJOBSTATE"
    ingest = queries.create_job("update")
    queries.upload_job_data(ingest["id"], "Id,Amount\n006000000000000AAA,1\n")
    assert queries.abort_job(ingest["id"], False)["state"] == "Aborted"
    assert _rows(queries.get_ingest_results(ingest["id"], "unprocessedrecords")) == [
        {"Id": "006000000000000AAA", "Amount": "1"}]
    with pytest.raises(SalesforceMalformedRequest):
        queries.upload_job_data(ingest["id"], "Id,Amount\n006000000000000AAA,2\n")
    with pytest.raises(SalesforceResourceNotFound):
        queries.get_job(ingest["id"], True)  # an ingest job is not a query job


def test_unknown_objects_are_refused_like_salesforce(box):
    sf = simple_sf(box, version=VERSION)
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.bulk2.Nothing__c._client.create_job("update")
    assert refused.value.content == [{"message": "Entity 'Nothing__c' is not supported by the Bulk API.",
                                      "errorCode": "INVALIDENTITY"}]
