"""Sandbox responses against hubspot-api-client 12's generated models, and the client's requests."""
from __future__ import annotations

from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import models as contact_models
from hubspot.crm.deals import (BatchInputSimplePublicObjectBatchInput, Filter, FilterGroup,
                               PublicObjectSearchRequest, SimplePublicObjectBatchInput)
from hubspot.crm.deals import models as deal_models
from hubspot.crm.pipelines import models as pipeline_models
from hubspot.crm.properties import models as property_models
from hubspot.oauth import models as oauth_models

from tests.hubspot.conftest import Api
from tests.hubspot.modelcheck import problems

DEAL = "18462730011"


@pytest.fixture(scope="module")
def sandbox(make_hs_sandbox):
    return make_hs_sandbox()


@pytest.fixture(scope="module")
def api(sandbox) -> Api:
    return Api(sandbox)


def _ok(response: Any, status: int, klass: type) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert problems(body, klass) == []
    return body


def test_the_checker_catches_missing_and_mistyped_fields() -> None:
    bad = {"id": 5, "properties": {}, "createdAt": "yesterday"}
    found = problems(bad, deal_models.SimplePublicObject)
    assert "$.updatedAt: required by SimplePublicObject" in found
    assert "$.id: 5 is not str" in found
    assert "$.createdAt: 'yesterday' is not an ISO datetime" in found


def test_object_reads_match_the_models(api: Api) -> None:
    listing = _ok(api.get("/crm/v3/objects/deals", params={"limit": 2, "properties": "dealstage",
                                                           "propertiesWithHistory": "dealstage"}),
                  200, deal_models.CollectionResponseSimplePublicObjectWithAssociationsForwardPaging)
    assert listing["paging"]["next"]["after"]
    history = listing["results"][0]["propertiesWithHistory"]["dealstage"]
    assert {"value", "timestamp", "sourceType"} <= set(history[0])
    _ok(api.get(f"/crm/v3/objects/0-3/{DEAL}"), 200, deal_models.SimplePublicObjectWithAssociations)
    _ok(api.get("/crm/v3/objects/contacts/151", params={"propertiesWithHistory": "lifecyclestage"}),
        200, contact_models.SimplePublicObjectWithAssociations)


def test_batch_and_search_responses_match_the_models(api: Api) -> None:
    body = {"inputs": [{"id": DEAL}], "properties": ["dealstage"], "propertiesWithHistory": []}
    _ok(api.post("/crm/v3/objects/deals/batch/read", body), 200,
        deal_models.BatchResponseSimplePublicObject)
    body["inputs"].append({"id": "1"})
    partial = _ok(api.post("/crm/v3/objects/deals/batch/read", body), 207,
                  deal_models.BatchResponseSimplePublicObjectWithErrors)
    assert partial["errors"][0]["context"] == {"ids": ["1"]}
    update = {"inputs": [{"id": DEAL, "properties": {"dealname": "Globex renewal"}},
                         {"id": "2", "properties": {"dealname": "x"}}]}
    _ok(api.post("/crm/v3/objects/deals/batch/update", update), 207,
        deal_models.BatchResponseSimplePublicObjectWithErrors)
    _ok(api.post("/crm/v3/objects/contacts/search", {"limit": 1}), 200,
        contact_models.CollectionResponseWithTotalSimplePublicObjectForwardPaging)


def test_schema_and_pipeline_responses_match_the_models(api: Api) -> None:
    pipelines = _ok(api.get("/crm/v3/pipelines/deals"), 200,
                    pipeline_models.CollectionResponsePipelineNoPaging)
    assert pipelines["results"][0]["stages"][5]["metadata"] == {"isClosed": "true",
                                                               "probability": "1.0"}
    listing = _ok(api.get("/crm/v3/properties/contacts"), 200,
                  property_models.CollectionResponsePropertyNoPaging)
    assert not [p for p in listing["results"] if p["name"].startswith("hs_v2_")]
    _ok(api.get("/crm/v3/properties/deals/groups"), 200,
        property_models.CollectionResponsePropertyGroupNoPaging)
    created = api.post("/crm/v3/properties/deals", {
        "name": "conformance_flag", "label": "Flag", "type": "bool", "fieldType": "booleancheckbox",
        "groupName": "dealinformation", "options": [{"label": "Yes", "value": "true"},
                                                    {"label": "No", "value": "false"}]})
    _ok(created, 201, property_models.ModelProperty)


@pytest.mark.parametrize("path,method,body,status", [
    ("/crm/v3/objects/deals/1", "get", None, 404),
    ("/crm/v3/objects/deals/search", "post", {"limit": 500}, 400),
    ("/crm/v3/objects/deals/batch/update", "post",
     {"inputs": [{"id": DEAL, "properties": {"no_such": "1"}}]}, 400),
    ("/crm/v3/properties/deals", "post", {"name": "dealname", "label": "x", "type": "string",
                                          "fieldType": "text", "groupName": "dealinformation"}, 409),
])
def test_error_bodies_match_the_error_model(api: Api, path: str, method: str, body: Any,
                                            status: int) -> None:
    response = getattr(api, method)(path, body) if body is not None else api.get(path)
    error = _ok(response, status, deal_models.Error)
    assert error["status"] == "error"


def test_oauth_responses_match_the_models(sandbox, api: Api) -> None:
    info = sandbox.info()
    token = api.session.post(info["base_url"] + "/oauth/v1/token", data={
        "grant_type": "refresh_token", "refresh_token": info["refresh_token"],
        "client_id": info["client_id"], "client_secret": info["client_secret"]})
    tokens = _ok(token, 200, oauth_models.TokenResponseIF)
    assert tokens["expires_in"] == 1800
    _ok(api.get(f"/oauth/v1/access-tokens/{tokens['access_token']}"), 200,
        oauth_models.AccessTokenInfoResponse)


def test_the_client_library_reads_repeated_keys_and_history(sandbox) -> None:
    client = HubSpot(access_token=sandbox.info()["private_app_token"], host=sandbox.base_url)
    page = client.crm.deals.basic_api.get_page(
        limit=5, properties=["dealstage", "amount"], properties_with_history=["dealstage"])
    deal = next(d for d in page.results if d.id == DEAL)
    assert deal.properties["amount"] == "24000"
    stages = sorted(deal.properties_with_history["dealstage"], key=lambda e: e.timestamp)
    assert [e.value for e in stages] == ["appointmentscheduled", "qualifiedtobuy", "contractsent"]


def test_comma_lists_and_repeated_keys_mean_the_same(api: Api) -> None:
    comma = api.get(f"/crm/v3/objects/deals/{DEAL}", params={"properties": "amount,dealname"})
    repeated = api.get(f"/crm/v3/objects/deals/{DEAL}",
                       params=[("properties", "amount"), ("properties", "dealname")])
    assert comma.json()["properties"] == repeated.json()["properties"]
    assert {"amount", "dealname", "hs_object_id"} <= set(comma.json()["properties"])


def test_request_bodies_built_from_the_client_models_are_accepted(sandbox) -> None:
    client = HubSpot(access_token=sandbox.info()["private_app_token"], host=sandbox.base_url)
    request = PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=[Filter(property_name="amount", operator="GTE",
                                                   value="20000")])],
        sorts=["-amount"], properties=["amount"], limit=200)
    found = client.crm.deals.search_api.do_search(public_object_search_request=request)
    assert [d.properties["amount"] for d in found.results] == ["180000", "24000"]
    update = BatchInputSimplePublicObjectBatchInput(inputs=[
        SimplePublicObjectBatchInput(id="18462730013", properties={"description": "via models"})])
    result = client.crm.deals.batch_api.update(batch_input_simple_public_object_batch_input=update)
    assert result.status == "COMPLETE" and result.results[0].properties["description"] == "via models"


def test_malformed_request_bodies_are_rejected(api: Api) -> None:
    assert api.post("/crm/v3/objects/deals/batch/update", {"input": []}).status_code == 400
    assert api.post("/crm/v3/objects/deals/batch/update",
                    {"inputs": [{"id": DEAL, "props": {}}]}).status_code == 400
    raw = api.session.post(api.base + "/crm/v3/objects/deals/search", data="{",
                           headers={"Content-Type": "application/json"})
    assert raw.status_code == 400 and raw.json()["category"] == "VALIDATION_ERROR"
