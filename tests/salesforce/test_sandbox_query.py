"""SOQL over HTTP: filters, parents, children, paging and Salesforce's query errors."""
from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tests.fixtures_salesforce import ACME, CONTACT_LI, CONTACT_MIA, OPP_ACME, OPP_GLOBEX, OPP_WON, sf_seed
from tests.salesforce.helpers import api, bearer, http, simple_sf


def _ids(result):
    return [r["Id"] for r in result["records"]]


def test_where_with_in_like_or_parentheses_and_datetimes(sf_sandbox):
    sf = simple_sf(sf_sandbox)
    result = sf.query("SELECT Id FROM Opportunity WHERE (StageName IN ('Prospecting', 'Closed Won') OR "
                      "Name LIKE 'acme - p%') AND CreatedDate >= 2026-05-01T08:00:00Z ORDER BY Amount DESC")
    assert _ids(result) == [OPP_ACME, OPP_WON, OPP_GLOBEX]
    assert _ids(sf.query("SELECT Id FROM Opportunity WHERE CreatedDate > 2026-05-01T08:00:00Z "
                         "AND Amount < 100000")) == [OPP_GLOBEX]
    assert _ids(sf.query("SELECT Id FROM Opportunity WHERE NOT StageName = 'Closed Won' ORDER BY Name "
                         "LIMIT 1")) == [OPP_ACME]
    assert sf.query("SELECT Id FROM Opportunity WHERE CloseDate < 2026-08-01")["totalSize"] == 1


def test_parent_fields_and_child_subqueries_come_back_nested(sf_sandbox):
    sf = simple_sf(sf_sandbox)
    result = sf.query(f"SELECT Id, Account.Industry, Owner.Name, (SELECT StageName, CreatedDate FROM "
                      f"OpportunityHistories ORDER BY CreatedDate) FROM Opportunity WHERE Id = '{OPP_ACME}'")
    (record,) = result["records"]
    assert record["attributes"] == {"type": "Opportunity",
                                    "url": f"/services/data/v59.0/sobjects/Opportunity/{OPP_ACME}"}
    assert record["Account"]["Industry"] == "Manufacturing"
    assert record["Account"]["attributes"]["type"] == "Account"
    histories = record["OpportunityHistories"]
    assert (histories["totalSize"], histories["done"]) == (3, True)
    assert [(h["StageName"], h["CreatedDate"]) for h in histories["records"]] == [
        ("Prospecting", "2026-08-01T09:00:00.000+0000"), ("Qualification", "2026-08-20T15:30:00.000+0000"),
        ("Negotiation/Review", "2026-09-28T11:00:00.000+0000")]
    roles = sf.query(f"SELECT Id, (SELECT OpportunityId FROM OpportunityContactRoles) FROM Contact "
                     f"WHERE AccountId = '{ACME}' OR Title = 'Head of IT' ORDER BY LastName")["records"]
    assert [r["Id"] for r in roles] == [CONTACT_MIA, CONTACT_LI]
    assert roles[0]["OpportunityContactRoles"] is None
    assert roles[1]["OpportunityContactRoles"]["totalSize"] == 2


def test_a_missing_parent_is_null(make_sf_sandbox):
    sandbox = make_sf_sandbox({"opportunities": [{"Name": "Lonely", "StageName": "Prospecting",
                                              "CloseDate": "2027-01-01"}]})
    (record,) = simple_sf(sandbox).query("SELECT Name, Account.Name FROM Opportunity")["records"]
    assert record["Account"] is None


@pytest.fixture(scope="module")
def big_box(make_sf_sandbox):
    seed = sf_seed()
    seed["opportunities"] += [{"Name": f"Bulk {i:04d}", "StageName": "Prospecting", "CloseDate": "2027-01-01",
                               "CreatedDate": "2026-01-01T00:00:00Z"} for i in range(2300)]
    return make_sf_sandbox(seed, child_batch_size=2)


def test_pages_follow_next_records_url_and_honour_batch_size(big_box):
    sf = simple_sf(big_box)
    first = sf.query("SELECT Id FROM Opportunity", headers={"Sforce-Query-Options": "batchSize=500"})
    assert (first["totalSize"], first["done"], len(first["records"])) == (2303, False, 500)
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-500")
    ids = _ids(first)
    page = first
    while not page["done"]:
        page = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
        ids += _ids(page)
    assert len(ids) == len(set(ids)) == 2303
    default = sf.query("SELECT Id FROM Opportunity")
    assert len(default["records"]) == 2000
    tiny = sf.query("SELECT Id FROM Opportunity", headers={"Sforce-Query-Options": "batchSize=10"})
    assert len(tiny["records"]) == 200


def test_child_rows_count_toward_the_batch_and_long_child_lists_page(big_box):
    sf = simple_sf(big_box)
    page = sf.query("SELECT Id, (SELECT StageName FROM OpportunityHistories) FROM Opportunity",
                    headers={"Sforce-Query-Options": "batchSize=200"})
    rows = sum(1 + len((r["OpportunityHistories"] or {"records": []})["records"]) for r in page["records"])
    assert rows <= 200 and len(page["records"]) < 200
    acme = sf.query(f"SELECT Id, (SELECT StageName FROM OpportunityHistories ORDER BY CreatedDate) "
                    f"FROM Opportunity WHERE Id = '{OPP_ACME}'")["records"][0]["OpportunityHistories"]
    assert (acme["totalSize"], acme["done"], len(acme["records"])) == (3, False, 2)
    rest = sf.query_more(acme["nextRecordsUrl"], identifier_is_url=True)
    assert rest["done"] is True
    assert [r["StageName"] for r in acme["records"] + rest["records"]] == [
        "Prospecting", "Qualification", "Negotiation/Review"]


def test_unknown_locator_is_invalid_query_locator(sf_sandbox):
    response = http(sf_sandbox).get(api(sf_sandbox, "query/01gdeadbeef-2000"), headers=bearer(sf_sandbox))
    assert response.status_code == 400
    assert response.json() == [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]


@pytest.mark.parametrize("soql, code, detail", [
    ("SELECT Id, Stage FROM Opportunity", "INVALID_FIELD",
     "No such column 'Stage' on entity 'Opportunity'. If you are attempting to use a custom field, be sure "
     "to append the '__c' after the custom field name. Please reference your WSDL or the describe call for "
     "the appropriate names."),
    ("SELECT Id FROM Opportunit", "INVALID_TYPE",
     "sObject type 'Opportunit' is not supported. If you are attempting to use a custom object, be sure to "
     "append the '__c' after the entity name. Please reference your WSDL or the describe call for the "
     "appropriate names."),
    ("SELECT Id, (SELECT Id FROM Histories__r) FROM Opportunity", "INVALID_TYPE",
     "Didn't understand relationship 'Histories__r' in FROM part of query call."),
    ("SELECT Acount.Name FROM Opportunity", "INVALID_FIELD",
     "Didn't understand relationship 'Acount' in field path."),
    ("SELECT Id FROM Opportunity WHERE SystemModstamp >= '2026-01-01T00:00:00Z'", "INVALID_FIELD",
     "value of filter criterion for field 'SystemModstamp' must be of type dateTime and should not be "
     "enclosed in quotes"),
    ("SELECT Id FROM Opportunity WHERE Name = 5", "INVALID_FIELD",
     "value of filter criterion for field 'Name' must be of type string and should be enclosed in quotes"),
    ("SELECT Id FROM Opportunity ORDER BY", "MALFORMED_QUERY", "unexpected token: <EOF>"),
])
def test_query_errors_carry_salesforce_codes_and_messages(sf_sandbox, soql, code, detail):
    with pytest.raises(SalesforceMalformedRequest) as info:
        simple_sf(sf_sandbox).query(soql)
    (error,) = info.value.content
    assert error["errorCode"] == code
    assert detail in error["message"]
    assert error["message"].startswith(f"\n{soql}\n")


def test_query_all_and_tooling_query_are_separate_resources(sf_sandbox):
    sf = simple_sf(sf_sandbox)
    assert sf.query_all("SELECT Id FROM Lead")["totalSize"] == 1
    assert sf.restful("tooling/query/", params={"q": "SELECT Id FROM CustomField"})["totalSize"] == 0
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query("SELECT Id FROM CustomField")
    assert info.value.content[0]["errorCode"] == "INVALID_TYPE"


@pytest.mark.parametrize("path", ["query?q=SELECT+Id+FROM+Lead", "query/?q=SELECT+Id+FROM+Lead",
                                  "queryAll?q=SELECT+Id+FROM+Lead",
                                  "tooling/query?q=SELECT+Id+FROM+CustomField"])
def test_query_paths_answer_with_or_without_the_trailing_slash(sf_sandbox, path):
    """jsforce asks ``query?q=``, simple-salesforce ``query/?q=``: Salesforce answers both directly."""
    response = http(sf_sandbox).get(api(sf_sandbox, path), headers=bearer(sf_sandbox), allow_redirects=False)
    assert response.status_code == 200 and "totalSize" in response.json()


def test_the_org_answers_who_it_is_from_its_one_organization_row(sf_sandbox):
    sf = simple_sf(sf_sandbox)
    (org,) = sf.query("SELECT Id, Name FROM Organization")["records"]
    assert org["Id"] == sf_sandbox.info()["org_id"] and org["Name"]
    describe = sf.Organization.describe()
    assert describe["queryable"] and not describe["updateable"]
