"""Deal-contact associations in the sandbox, read and written with hubspot-api-client."""
from __future__ import annotations

import copy

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4.models import BatchInputPublicFetchAssociationsBatchRequest

from connectors.seedfile import SeedError
from connectors.hubspot.sandbox import HubSpotSandbox
from tests.fixtures_hubspot import HS_SEED
from tests.hubspot.conftest import Api

SEED = copy.deepcopy(HS_SEED)
SEED["deals"][0]["associations"] = {"contacts": ["151"]}
SEED["contacts"][1]["associations"] = {"deals": ["18462730012", "18462730011"]}


@pytest.fixture(scope="module")
def sandbox(make_hs_sandbox):
    return make_hs_sandbox(SEED)


@pytest.fixture(scope="module")
def client(sandbox) -> HubSpot:
    return HubSpot(access_token=sandbox.info()["private_app_token"], host=sandbox.base_url)


def test_either_side_of_the_seed_declares_an_association_and_it_holds_both_ways(client):
    deal = client.crm.associations.v4.basic_api.get_page("deals", "18462730011", "contacts")
    assert [(r.to_object_id, r.association_types[0].type_id) for r in deal.results] == [("151", 3), ("152", 3)]
    contact = client.crm.associations.v4.basic_api.get_page("contacts", "152", "deals")
    assert [r.to_object_id for r in contact.results] == ["18462730011", "18462730012"]
    assert contact.results[0].association_types[0].type_id == 4


def test_batch_read_reports_ids_without_associations_as_errors(sandbox):
    response = Api(sandbox).post("/crm/v4/associations/contacts/deals/batch/read",
                                 {"inputs": [{"id": "151"}, {"id": "999"}]})
    assert response.status_code == 207
    body = response.json()
    assert body["results"] == [{"from": {"id": "151"}, "to": [
        {"toObjectId": 18462730011, "associationTypes": [
            {"category": "HUBSPOT_DEFINED", "typeId": 4, "label": None}]}]}]
    assert body["errors"][0]["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
    assert body["errors"][0]["context"] == {"fromObjectId": ["999"]}


def test_batch_read_through_the_client_and_its_limit(client, sandbox):
    request = BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": "18462730012"}])
    page = client.crm.associations.v4.batch_api.get_page("deals", "contacts", request)
    assert [(r._from.id, [t.to_object_id for t in r.to]) for r in page.results] == [("18462730012", ["152"])]
    too_many = Api(sandbox).post("/crm/v4/associations/deals/contacts/batch/read",
                                 {"inputs": [{"id": str(i)} for i in range(1, 1002)]})
    assert too_many.status_code == 400 and "limit" in too_many.json()["message"]


def test_reads_carry_associations_when_asked(client, sandbox):
    deal = client.crm.deals.basic_api.get_by_id("18462730011", associations=["contacts"])
    assert [a.id for a in deal.associations["contacts"].results] == ["151", "152"]
    assert deal.associations["contacts"].results[0].type == "deal_to_contact"
    page = Api(sandbox).get("/crm/v3/objects/deals", params={"associations": "contacts", "limit": 10}).json()
    by_id = {r["id"]: r.get("associations") for r in page["results"]}
    assert by_id["18462730013"] is None
    assert by_id["18462730012"] == {"contacts": {"results": [{"id": "152", "type": "deal_to_contact"}]}}


def test_creating_a_default_association(client, sandbox):
    client.crm.associations.v4.basic_api.create_default("contacts", "151", "deals", "18462730013")
    assert [r.to_object_id for r in client.crm.associations.v4.basic_api.get_page(
        "deals", "18462730013", "contacts").results] == ["151"]
    missing = Api(sandbox).session.put(
        f"{sandbox.base_url}/crm/v4/objects/contacts/151/associations/default/deals/42")
    assert missing.status_code == 404


@pytest.mark.parametrize("associations,message", [
    ({"contacts": ["404"]}, "hubspot.deals[0].associations.contacts[0]: no contact with id '404'"),
    ({"deals": ["18462730012"]}, "hubspot.deals[0].associations.deals: a deal can be associated with contacts only"),
])
def test_a_seed_association_must_name_a_seed_record_of_the_other_type(associations, message):
    seed = copy.deepcopy(HS_SEED)
    seed["deals"][0]["associations"] = associations
    with pytest.raises(SeedError) as info:
        HubSpotSandbox(seed)
    assert message in str(info.value)
