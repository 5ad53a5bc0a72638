"""Journey stage and persona are choice fields (HubSpot enumeration properties, Salesforce
restricted picklists) whose options follow the map: read back through hubspot-api-client and
simple-salesforce after provisioning and after a map change, for each CRM."""
from __future__ import annotations

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.deals import ApiException as DealsApiException
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sqlmodel import select

from integration.connecting import connect, provision
from integration.map_review import apply_map
from integration.store.models import RecordState
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from integration.sync.map_in_force import connection_map
from mapping import default_map, map_from_dict, map_to_dict, map_to_yaml, writeback_choices
from tests.sync.crms import HS_FIELDS, SF_FIELDS, small_book, start_crm

CHOICES = ("journey_stage", "persona")
#: Our object names -> the CRM object names ``definitions`` reports.
OBJECT_NAMES = {"salesforce": {"opportunity": "Opportunity", "lead": "Lead", "contact": "Contact"},
                "hubspot": {"deal": "deals", "contact": "contacts"}}


def definitions(crm) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """Per object, each choice field's (value, label) options as the CRM's client library sees them."""
    if crm.crm == "hubspot":
        client = HubSpot(access_token=crm.info["access_token"], host=crm.info["base_url"])
        out = {}
        for path in ("deals", "contacts"):
            out[path] = {}
            for canonical in CHOICES:
                prop = client.crm.properties.core_api.get_by_name(path, HS_FIELDS[canonical])
                assert (prop.type, prop.field_type) == ("enumeration", "select")
                out[path][canonical] = [(o.value, o.label) for o in prop.options]
        return out
    sf = salesforce(crm)
    out = {}
    for sobject in ("Opportunity", "Lead", "Contact"):
        fields = {f["name"]: f for f in getattr(sf, sobject).describe()["fields"]}
        out[sobject] = {}
        for canonical in CHOICES:
            field = fields[SF_FIELDS[canonical]]
            assert (field["type"], field["restrictedPicklist"]) == ("picklist", True)
            out[sobject][canonical] = [(v["value"], v["label"]) for v in field["picklistValues"]]
    return out


def salesforce(crm) -> Salesforce:
    session = requests.Session()
    session.verify, session.trust_env = crm.info["ca_file"], False
    return Salesforce(instance_url=crm.info["instance_url"], session_id=crm.info["access_token"],
                      session=session, version="59.0")


def expected(jmap, extra_personas=()) -> dict[str, list[tuple[str, str]]]:
    choices = writeback_choices(jmap)
    return {"journey_stage": choices["journey_stage"],
            "persona": choices["persona"] + list(extra_personas)}


def changed_map():
    """The default map with a renamed stage label and one persona rule fewer."""
    data = map_to_dict(default_map())
    data["stages"][1]["label"] = "Evaluation"
    data["personas"] = [p for p in data["personas"] if p["key"] != "small_buyer"]
    data["actions"] = [a for a in data["actions"] if a.get("persona") != "small_buyer"]
    return map_from_dict(data)


@pytest.fixture(scope="module", params=["salesforce", "hubspot"])
def world(request, services):
    crm = start_crm(request.param, small_book(utcnow()))
    with services.session() as s:
        tenant = get_or_create_tenant(s, f"choices-{request.param}")
        conn = connect(s, services, tenant_id=tenant.id, name=f"choices-{request.param}",
                       crm=request.param, values=crm.settings())
        connection_id = conn.id
    provision(services, connection_id)
    yield crm, connection_id
    crm.stop()


def test_provisioned_choice_fields_hold_the_maps_stages_exits_and_personas_in_order(services, world):
    crm, _ = world
    for fields in definitions(crm).values():
        assert fields == expected(default_map())


def test_the_crm_rejects_a_value_that_is_not_an_option(services, world):
    crm, connection_id = world
    summary = sync_connection(services, connection_id)
    assert summary.failed == 0 and summary.written > 0
    if crm.crm == "hubspot":
        client = HubSpot(access_token=crm.info["access_token"], host=crm.info["base_url"])
        deal = client.crm.deals.basic_api.get_page(limit=1).results[0]
        with pytest.raises(DealsApiException) as caught:
            client.crm.deals.basic_api.update(deal.id, {"properties": {"journey_stage": "Awareness"}})
        assert caught.value.status == 400 and "INVALID_OPTION" in caught.value.body
    else:
        sf = salesforce(crm)
        opp = sf.query("SELECT Id FROM Opportunity LIMIT 1")["records"][0]["Id"]
        with pytest.raises(SalesforceMalformedRequest) as caught:
            sf.Opportunity.update(opp, {"Journey_Stage__c": "Awareness"})
        assert caught.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_a_map_change_updates_the_options_and_keeps_a_removed_one_while_records_hold_it(services, world):
    crm, connection_id = world
    holding = {OBJECT_NAMES[crm.crm][r.object] for r in _states(services, connection_id) if r.persona == "small_buyer"}
    assert holding, "the demo book should give some records the small_buyer persona"
    with services.session() as s:
        apply_map(s, connection_id, map_to_yaml(changed_map()), author="test", comment="rename")
    summary = sync_connection(services, connection_id)
    assert summary.failed == 0, summary.errors
    jmap = changed_map()
    removed = [("small_buyer", "Price-sensitive small buyer")]
    for name, fields in definitions(crm).items():
        # the options were updated before the records moved off the removed persona, which
        # stays on the objects where records held it
        assert fields == expected(jmap, removed if name in holding else ()), name
    assert not any(r.persona == "small_buyer" for r in _states(services, connection_id))
    # no record holds it any more: the next provisioning drops it
    provision(services, connection_id)
    for fields in definitions(crm).values():
        assert fields == expected(jmap)
    with services.session() as s:
        assert connection_map(s, connection_id)[0] == jmap


def _states(services, connection_id) -> list[RecordState]:
    with services.session() as s:
        return list(s.exec(select(RecordState).where(RecordState.connection_id == connection_id)))
