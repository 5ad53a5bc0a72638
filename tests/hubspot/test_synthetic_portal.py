"""Synthetic portals loaded straight into the sandbox serve what the same records seeded would,
and the compact history (a property's value as created, kept without a list) reads as HubSpot's."""
from __future__ import annotations

from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import BatchInputSimplePublicObjectBatchInput, PublicObjectSearchRequest

from connectors.hubspot.sandbox.generate import populate, synthetic_seed

STAGE_DATES = ["hs_v2_date_entered_lead", "hs_v2_date_exited_lead", "hs_v2_date_entered_customer"]


def _client(sandbox) -> HubSpot:
    return HubSpot(access_token=sandbox.info()["private_app_token"], host=sandbox.base_url)


def _served(sandbox) -> dict[str, Any]:
    """Everything a sync reads of the portal: search pages, history reads, listings."""
    client = _client(sandbox)
    search = client.crm.contacts.search_api.do_search(PublicObjectSearchRequest(
        sorts=["hs_object_id"], limit=200,
        properties=["email", "firstname", "jobtitle", "lifecyclestage", *STAGE_DATES]))
    ids = [{"id": c.id} for c in search.results]
    history = client.crm.contacts.batch_api.read({
        "inputs": ids[:50], "properties": ["email"],
        "propertiesWithHistory": ["lifecyclestage", "email", "createdate", "jobtitle"]})
    deals = client.crm.deals.basic_api.get_page(limit=50, properties=["dealstage", "amount"],
                                                properties_with_history=["dealstage", "amount"])
    owners = client.crm.owners.owners_api.get_page(limit=100)
    return {"search": search.to_dict(), "history": [r.to_dict() for r in history.results],
            "deals": deals.to_dict(), "owners": [(o.id, o.email) for o in owners.results]}


def test_a_populated_portal_serves_what_the_seeded_one_does(make_hs_sandbox) -> None:
    seeded = make_hs_sandbox(synthetic_seed(40, 60))
    populated = make_hs_sandbox({})
    populate(populated.portal, deals=40, contacts=60)

    served = _served(populated)
    assert served == _served(seeded)
    assert served["search"]["total"] == 60
    assert len(served["deals"]["results"]) == 40
    assert served["owners"]  # the deals' owners exist, as they do in a seeded portal
    first = served["history"][0]["properties_with_history"]
    assert [(e.value, e.source_type) for e in first["email"]] == [("person0@example.com", "CRM_UI")]


def test_a_first_change_keeps_the_value_the_record_was_created_with(make_hs_sandbox) -> None:
    sandbox = make_hs_sandbox({}, search_per_second=1000)
    populate(sandbox.portal, contacts=3)
    client = _client(sandbox)

    client.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=[
        {"id": "1002", "properties": {"email": "new1@example.com"}}]))
    client.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=[
        {"id": "1002", "properties": {"email": "new2@example.com"}}]))
    contact = client.crm.contacts.basic_api.get_by_id(
        "1002", properties=["email"], properties_with_history=["email", "jobtitle", "lastname"])

    emails = contact.properties_with_history["email"]
    assert [e.value for e in emails] == ["new2@example.com", "new1@example.com",
                                         "person1@example.com"]
    assert [e.source_type for e in emails] == ["INTEGRATION", "INTEGRATION", "CRM_UI"]
    assert emails[-1].timestamp == contact.created_at
    assert len(contact.properties_with_history["jobtitle"]) == 1
    assert contact.properties_with_history["lastname"] == []
    assert contact.properties["email"] == "new2@example.com"


def test_populating_ids_the_portal_holds_is_refused(make_hs_sandbox) -> None:
    sandbox = make_hs_sandbox({})
    populate(sandbox.portal, contacts=2)
    with pytest.raises(ValueError, match="contacts 1001 is already in the portal"):
        populate(sandbox.portal, contacts=1)
