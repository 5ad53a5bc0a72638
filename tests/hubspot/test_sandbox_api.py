"""The sandbox behaves as HubSpot does: search, limits, validation, auth, controls."""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from connectors.hubspot.sandbox.generate import synthetic_seed
from tests.hubspot.conftest import Api

DEAL = "18462730011"


@pytest.fixture(scope="module")
def sandbox(make_hs_sandbox):
    return make_hs_sandbox()


@pytest.fixture(scope="module")
def api(sandbox) -> Api:
    return Api(sandbox)


def _search_ids(api: Api, filters: list[dict], **extra) -> list[str]:
    time.sleep(0.21)  # the search endpoint allows 5 requests a second
    response = api.post("/crm/v3/objects/deals/search",
                        {"filterGroups": [{"filters": filters}], "limit": 100, **extra})
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["results"]]


@pytest.mark.parametrize("spec,expected", [
    ({"propertyName": "amount", "operator": "EQ", "value": "24000"}, ["18462730011"]),
    ({"propertyName": "amount", "operator": "NEQ", "value": "24000"}, ["18462730012", "18462730013"]),
    ({"propertyName": "amount", "operator": "LT", "value": "24000"}, ["18462730013"]),
    ({"propertyName": "amount", "operator": "LTE", "value": "24000"}, ["18462730011", "18462730013"]),
    ({"propertyName": "amount", "operator": "GT", "value": "24000"}, ["18462730012"]),
    ({"propertyName": "amount", "operator": "GTE", "value": "9500"},
     ["18462730011", "18462730012", "18462730013"]),
    ({"propertyName": "amount", "operator": "BETWEEN", "value": "9000", "highValue": "30000"},
     ["18462730011", "18462730013"]),
    ({"propertyName": "dealstage", "operator": "IN", "values": ["closedwon", "contractsent"]},
     ["18462730011", "18462730012"]),
    ({"propertyName": "dealstage", "operator": "NOT_IN", "values": ["closedwon"]},
     ["18462730011", "18462730013"]),
    ({"propertyName": "hubspot_owner_id", "operator": "HAS_PROPERTY"}, ["18462730011", "18462730012"]),
    ({"propertyName": "hubspot_owner_id", "operator": "NOT_HAS_PROPERTY"}, ["18462730013"]),
    ({"propertyName": "createdate", "operator": "GTE", "value": "2026-09-01T10:00:00Z"},
     ["18462730011", "18462730013"]),
    ({"propertyName": "createdate", "operator": "LT", "value": "1788256800000"}, ["18462730012"]),
    ({"propertyName": "hs_object_id", "operator": "GT", "value": "18462730011"},
     ["18462730012", "18462730013"]),
    ({"propertyName": "hs_v2_date_entered_closedwon", "operator": "HAS_PROPERTY"}, ["18462730012"]),
])
def test_search_operators(api: Api, spec: dict, expected: list[str]) -> None:
    assert sorted(_search_ids(api, [spec])) == expected


def test_filter_groups_are_ored_and_filters_anded(api: Api) -> None:
    time.sleep(0.21)
    body = {"filterGroups": [
        {"filters": [{"propertyName": "amount", "operator": "GT", "value": "100000"}]},
        {"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "appointmentscheduled"},
                     {"propertyName": "amount", "operator": "LT", "value": "10000"}]}]}
    ids = [r["id"] for r in api.post("/crm/v3/objects/deals/search", body).json()["results"]]
    assert sorted(ids) == ["18462730012", "18462730013"]


def test_search_sorts_pages_and_totals(api: Api) -> None:
    time.sleep(0.21)
    first = api.post("/crm/v3/objects/deals/search",
                     {"sorts": [{"propertyName": "amount", "direction": "DESCENDING"}], "limit": 2,
                      "properties": ["amount"]}).json()
    assert first["total"] == 3
    assert [r["properties"]["amount"] for r in first["results"]] == ["180000", "24000"]
    assert first["paging"]["next"]["after"] == "2"
    time.sleep(0.21)
    second = api.post("/crm/v3/objects/deals/search",
                      {"sorts": ["-amount"], "limit": 2, "after": "2"}).json()
    assert [r["id"] for r in second["results"]] == ["18462730013"]
    assert "paging" not in second


@pytest.mark.parametrize("body,fragment", [
    ({"limit": 201}, "limit must be between 1 and 200"),
    ({"limit": 100, "after": "10000"}, "limited to 10000"),
    ({"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "EQ", "value": "1"}]}]},
     "'nope' does not exist"),
    ({"filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE",
                                     "value": "1"}]}]}, "does not exist on contacts"),
    ({"sorts": ["amount", "dealname"]}, "Only one sort"),
])
def test_search_rejects_what_hubspot_rejects(api: Api, body: dict, fragment: str) -> None:
    time.sleep(0.21)
    kind = "contacts" if "hs_lastmodifieddate" in str(body) else "deals"
    response = api.post(f"/crm/v3/objects/{kind}/search", body)
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"
    assert fragment in response.json()["message"]


def test_search_has_its_own_per_second_limit(make_hs_sandbox) -> None:
    api = Api(make_hs_sandbox())
    with ThreadPoolExecutor(8) as pool:  # a burst well inside one second
        burst = list(pool.map(lambda _: api.post("/crm/v3/objects/deals/search", {"limit": 1}),
                              range(8)))
    assert sorted(r.status_code for r in burst) == [200] * 5 + [429] * 3
    limited = next(r for r in burst if r.status_code == 429)
    body = limited.json()
    assert body["errorType"] == "RATE_LIMIT" and "policyName" not in body
    assert body["message"] == "You have reached your secondly limit."
    assert limited.headers["X-HubSpot-RateLimit-Secondly-Remaining"] == "0"


def test_rate_limit_headers_differ_for_oauth_and_private_apps(make_hs_sandbox) -> None:
    """OAuth (public) apps have no daily limit and get no Daily headers; private apps do."""
    sandbox = make_hs_sandbox()
    rolling = {"X-HubSpot-RateLimit-Max", "X-HubSpot-RateLimit-Remaining",
               "X-HubSpot-RateLimit-Interval-Milliseconds"}
    daily = {"X-HubSpot-RateLimit-Daily", "X-HubSpot-RateLimit-Daily-Remaining"}
    private = Api(sandbox).get(f"/crm/v3/objects/deals/{DEAL}").headers
    oauth = Api(sandbox, sandbox.info()["access_token"]).get(f"/crm/v3/objects/deals/{DEAL}").headers
    assert rolling | daily <= set(private) and private["X-HubSpot-RateLimit-Daily"] == "250000"
    assert rolling <= set(oauth) and not daily & set(oauth)


def test_batch_limits(api: Api) -> None:
    many = [{"id": str(i)} for i in range(1, 102)]
    response = api.post("/crm/v3/objects/deals/batch/read",
                        {"inputs": many, "properties": [], "propertiesWithHistory": []})
    assert response.status_code == 400 and "limit is 100" in response.json()["message"]
    response = api.post("/crm/v3/objects/deals/batch/read",
                        {"inputs": many[:51], "properties": [], "propertiesWithHistory": ["dealstage"]})
    assert response.status_code == 400 and "limit is 50" in response.json()["message"]
    response = api.post("/crm/v3/objects/deals/batch/update",
                        {"inputs": [{"id": str(i), "properties": {}} for i in range(101)]})
    assert response.status_code == 400
    response = api.post("/crm/v3/objects/deals/batch/update",
                        {"inputs": [{"id": DEAL, "properties": {}}, {"id": DEAL, "properties": {}}]})
    assert response.status_code == 400 and "Duplicate IDs" in response.json()["message"]


@pytest.mark.parametrize("properties,error", [
    ({"journey_nope": "x"}, "PROPERTY_DOESNT_EXIST"),
    ({"hs_object_id": "5"}, "READ_ONLY_VALUE"),
    ({"hs_v2_date_entered_closedwon": "2026-01-01T00:00:00Z"}, "PROPERTY_DOESNT_EXIST"),
    ({"dealstage": "negotiation"}, "INVALID_OPTION"),
    ({"amount": "lots"}, "INVALID_NUMBER"),
    ({"closedate": "soon"}, "INVALID_DATETIME"),
])
def test_invalid_writes_fail_the_whole_batch_and_change_nothing(sandbox, api: Api, properties: dict,
                                                                error: str) -> None:
    before = api.get(f"/crm/v3/objects/deals/{DEAL}").json()
    response = api.post("/crm/v3/objects/deals/batch/update", {"inputs": [
        {"id": "18462730013", "properties": {"dealname": "changed"}},
        {"id": DEAL, "properties": properties}]})
    assert response.status_code == 400
    assert f'"error":"{error}"' in response.json()["message"]
    assert api.get(f"/crm/v3/objects/deals/{DEAL}").json() == before
    assert api.get("/crm/v3/objects/deals/18462730013").json()["properties"]["dealname"] == \
        "Umbrella pilot"


def test_a_write_records_history_and_bumps_the_modified_date(api: Api) -> None:
    before = api.get("/crm/v3/objects/deals/18462730013").json()
    response = api.patch("/crm/v3/objects/deals/18462730013",
                         {"properties": {"dealstage": "qualifiedtobuy"}})
    assert response.status_code == 200
    after = api.get("/crm/v3/objects/deals/18462730013",
                    params={"propertiesWithHistory": "dealstage",
                            "properties": "hs_v2_date_entered_qualifiedtobuy,"
                                          "hs_v2_date_exited_appointmentscheduled"}).json()
    newest = after["propertiesWithHistory"]["dealstage"][0]
    assert newest["value"] == "qualifiedtobuy" and newest["sourceType"] == "INTEGRATION"
    assert after["properties"]["hs_lastmodifieddate"] > before["properties"]["hs_lastmodifieddate"]
    assert after["properties"]["hs_v2_date_entered_qualifiedtobuy"] == newest["timestamp"]
    assert after["properties"]["hs_v2_date_exited_appointmentscheduled"] == newest["timestamp"]


def test_lower_tier_portals_have_no_stage_dates(make_hs_sandbox) -> None:
    lower = make_hs_sandbox(stage_dates=False)
    api = Api(lower)
    deal = api.get(f"/crm/v3/objects/deals/{DEAL}",
                   params={"properties": "dealstage,hs_v2_date_entered_contractsent",
                           "propertiesWithHistory": "dealstage"}).json()
    assert "hs_v2_date_entered_contractsent" not in deal["properties"]
    assert len(deal["propertiesWithHistory"]["dealstage"]) == 3


def test_properties_and_groups_answer_409_on_duplicates(api: Api) -> None:
    group = {"name": "journey_test", "label": "Journey test"}
    assert api.post("/crm/v3/properties/contacts/groups", group).status_code == 201
    duplicate = api.post("/crm/v3/properties/contacts/groups", group)
    assert duplicate.status_code == 409 and duplicate.json()["category"] == "OBJECT_ALREADY_EXISTS"
    prop = {"name": "journey_test_stage", "label": "Stage", "type": "string", "fieldType": "text",
            "groupName": "journey_test"}
    assert api.post("/crm/v3/properties/contacts", prop).status_code == 201
    assert api.post("/crm/v3/properties/contacts", prop).status_code == 409
    bad = api.post("/crm/v3/properties/contacts", {**prop, "name": "x2", "fieldType": "booleancheckbox"})
    assert bad.status_code == 400
    assert api.get("/crm/v3/properties/contacts/journey_test_stage").json()["groupName"] == \
        "journey_test"


def test_unknown_and_expired_tokens_get_401(sandbox) -> None:
    wrong = Api(sandbox, token="not-a-token").get(f"/crm/v3/objects/deals/{DEAL}")
    assert wrong.status_code == 401 and wrong.json()["category"] == "INVALID_AUTHENTICATION"
    oauth = Api(sandbox, token=sandbox.info()["access_token"])
    assert oauth.get(f"/crm/v3/objects/deals/{DEAL}").status_code == 200
    assert oauth.control("expire-tokens").json()["expired"] >= 1
    expired = oauth.get(f"/crm/v3/objects/deals/{DEAL}")
    assert expired.status_code == 401 and expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert Api(sandbox).get(f"/crm/v3/objects/deals/{DEAL}").status_code == 200


def test_oauth_install_flow(sandbox, api: Api) -> None:
    info = sandbox.info()
    redirect = "http://localhost:5000/oauth/callback"
    page = api.session.get(info["base_url"] + "/oauth/authorize", allow_redirects=False, params={
        "client_id": info["client_id"], "redirect_uri": redirect, "scope": "oauth", "state": "s1"})
    assert page.status_code == 302 and page.headers["Location"].startswith(redirect + "?code=")
    code = page.headers["Location"].split("code=")[1].split("&")[0]
    form = {"grant_type": "authorization_code", "client_id": info["client_id"],
            "client_secret": info["client_secret"], "redirect_uri": redirect, "code": code}
    tokens = api.session.post(info["base_url"] + "/oauth/v1/token", data=form)
    assert tokens.status_code == 200
    again = api.session.post(info["base_url"] + "/oauth/v1/token", data=form)
    assert again.status_code == 400 and again.json()["status"] == "BAD_AUTH_CODE"
    about = api.get(f"/oauth/v1/access-tokens/{tokens.json()['access_token']}").json()
    assert about["hub_id"] == 62515 and about["scopes"] == ["oauth"]
    bad = api.session.post(info["base_url"] + "/oauth/v1/token", data={
        **form, "grant_type": "refresh_token", "refresh_token": "nope"})
    assert bad.json()["status"] == "BAD_REFRESH_TOKEN"


def test_rolling_limit_answers_429_with_hubspot_headers(make_hs_sandbox) -> None:
    small = make_hs_sandbox(rate_limit=5, rate_window_seconds=2.0)
    api = Api(small)
    responses = [api.get(f"/crm/v3/objects/deals/{DEAL}") for _ in range(6)]
    assert [r.status_code for r in responses] == [200] * 5 + [429]
    assert responses[3].headers["X-HubSpot-RateLimit-Remaining"] == "1"
    limited = responses[-1]
    assert limited.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert limited.json()["message"] == "You have reached your ten_secondly_rolling limit."
    assert limited.headers["X-HubSpot-RateLimit-Max"] == "5"
    assert limited.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "2000"
    time.sleep(2.05)
    assert api.get(f"/crm/v3/objects/deals/{DEAL}").status_code == 200


def test_faults_latency_and_call_counters(make_hs_sandbox) -> None:
    faulty = make_hs_sandbox()
    api = Api(faulty)
    api.control("counters/reset")
    api.control("faults", {"rate_503": 1.0})
    failed = api.get(f"/crm/v3/objects/deals/{DEAL}")
    assert failed.status_code == 503 and failed.json()["category"] == "SERVICE_UNAVAILABLE"
    api.control("faults", {"rate_429": 1.0})
    assert api.get(f"/crm/v3/objects/deals/{DEAL}").status_code == 429
    api.control("faults", {"error_share": 0, "latency_ms": 150})
    started = time.monotonic()
    assert api.get(f"/crm/v3/objects/0-3/{DEAL}").status_code == 200
    assert time.monotonic() - started >= 0.15
    api.control("faults", {"latency_ms": 0})
    calls = api.session.get(faulty.base_url + "/__sandbox__/counters").json()
    assert calls["by_route"] == {"GET /crm/v3/objects/deals/<record_id>": 3}
    assert api.control("counters/reset").json()["calls"] == 0
    bad = api.control("faults", {"error_share": 2})
    assert bad.status_code == 400 and "error_share must be between 0 and 1" in bad.json()["error"]


def test_move_simulates_a_rep_edit(make_hs_sandbox) -> None:
    moved = make_hs_sandbox()
    api = Api(moved)
    response = api.control("move", {"object": "deal", "id": DEAL, "stage": "closedwon"})
    assert response.status_code == 200
    deal = api.get(f"/crm/v3/objects/deals/{DEAL}", params={"propertiesWithHistory": "dealstage"}).json()
    assert deal["properties"]["dealstage"] == "closedwon"
    assert deal["propertiesWithHistory"]["dealstage"][0]["sourceType"] == "CRM_UI"
    assert api.control("move", {"object": "deal", "id": "1", "stage": "closedwon"}).status_code == 400


def test_paging_with_after_stops_at_10000_results(make_hs_sandbox) -> None:
    big = make_hs_sandbox(synthetic_seed(10_050), search_per_second=1_000)
    api = Api(big)
    last = api.post("/crm/v3/objects/deals/search", {"limit": 200, "after": "9900",
                                                      "properties": ["dealname"]}).json()
    assert last["total"] == 10_050 and len(last["results"]) == 100
    assert last["paging"]["next"]["after"] == "10000"
    beyond = api.post("/crm/v3/objects/deals/search", {"limit": 200, "after": "10000"})
    assert beyond.status_code == 400 and "limited to 10000" in beyond.json()["message"]


RULES = {"rules": [{"objectType": "deals", "required": "closedate", "when": {"dealstage": "closedwon"},
                    "message": "Close date is required for a closed won deal"}]}


def test_a_portal_validation_rule_refuses_a_batch_or_one_traced_input(make_hs_sandbox) -> None:
    """Without objectWriteTraceIds a broken rule refuses the whole batch; with them, only the
    input that breaks it fails (207, named by its trace id) and the others are written."""
    sandbox = make_hs_sandbox()
    api = Api(sandbox)
    assert api.control("validation-rules", RULES).json()["rules"][0]["required"] == "closedate"
    inputs = [{"id": "18462730011", "properties": {"dealname": "A"}},
              {"id": "18462730012", "properties": {"dealname": "B"}}]
    whole = api.post("/crm/v3/objects/deals/batch/update", {"inputs": inputs})
    assert whole.status_code == 400 and whole.json()["category"] == "VALIDATION_ERROR"
    problems = json.loads(whole.json()["message"].removeprefix("Property values were not valid: "))
    assert problems == [{"isValid": False, "message": "Close date is required for a closed won deal",
                         "error": "REQUIRED_FIELD", "name": "closedate",
                         "localizedErrorMessage": "Close date is required for a closed won deal"}]
    assert api.get("/crm/v3/objects/deals/18462730011").json()["properties"]["dealname"] == "Globex renewal"
    traced = api.post("/crm/v3/objects/deals/batch/update", {"inputs": [
        dict(item, objectWriteTraceId=f"t{n}") for n, item in enumerate(inputs)]})
    assert traced.status_code == 207
    body = traced.json()
    assert [r["id"] for r in body["results"]] == ["18462730011"] and body["numErrors"] == 1
    assert body["errors"][0]["context"] == {"objectWriteTraceId": ["t1"]}
    assert body["errors"][0]["category"] == "VALIDATION_ERROR"
    fixed = api.patch("/crm/v3/objects/deals/18462730012",
                      {"properties": {"closedate": "2026-08-30T16:45:00Z", "dealname": "B"}})
    assert fixed.status_code == 200


@pytest.mark.parametrize("rules", [{"rules": "x"}, {"rules": [{"objectType": "tickets", "required": "a",
                                                              "when": {"b": "c"}}]},
                                   {"rules": [{"objectType": "deals", "required": "a", "when": {}}]}])
def test_bad_validation_rules_are_refused(make_hs_sandbox, rules) -> None:
    response = Api(make_hs_sandbox()).control("validation-rules", rules)
    assert response.status_code == 400 and "validation-rules" in response.json()["message"]


def test_validation_rules_can_come_with_the_seed(make_hs_sandbox) -> None:
    import copy
    from tests.fixtures_hubspot import HS_SEED
    seed = copy.deepcopy(HS_SEED)
    seed["validation_rules"] = RULES["rules"]
    api = Api(make_hs_sandbox(seed))
    assert api.get("/__sandbox__/validation-rules").json()["rules"][0]["when"] == {"dealstage": "closedwon"}
    refused = api.patch("/crm/v3/objects/deals/18462730012", {"properties": {"dealname": "B"}})
    assert refused.status_code == 400 and "Close date is required" in refused.json()["message"]
