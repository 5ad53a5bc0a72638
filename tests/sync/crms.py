"""Test-side helpers over the two sandboxes: start one with a book, and read records back through
the CRM's own client library (simple-salesforce, hubspot-api-client), so one test body serves both."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import requests
from hubspot import HubSpot
from simple_salesforce import Salesforce

from integration.connecting import connect, provision
from integration.demo.seed import demo_seed
from integration.map_review import apply_map
from integration.sandboxes import SandboxControl, make_sandbox, sandbox_settings
from integration.store.tenancy import get_or_create_tenant
from mapping import default_map_text

SF_FIELDS = {"journey_stage": "Journey_Stage__c", "persona": "Journey_Persona__c",
             "next_best_action": "Next_Best_Action__c", "stalled": "Journey_Stalled__c"}
HS_FIELDS = {"journey_stage": "journey_stage", "persona": "journey_persona",
             "next_best_action": "journey_next_best_action", "stalled": "journey_stalled"}


def small_book(now: datetime) -> dict[str, Any]:
    """A demo book small enough for quick tests, big enough for several write batches."""
    return demo_seed(now, opportunities=260, leads=30, sf_contacts=20, deals=230, hs_contacts=40)


class SandboxCrm(SandboxControl):
    """A running sandbox, its levers, and reads through the CRM's own client library."""

    def settings(self) -> dict[str, Any]:
        return sandbox_settings(self.crm, self.info)

    def stop(self) -> None:
        self.sandbox.stop()

    def read(self, object: str, crm_id: str) -> dict[str, Any]:
        """The write-back fields of one record as the CRM's client library returns them."""
        if self.crm == "salesforce":
            session = requests.Session()
            session.verify, session.trust_env = self.info["ca_file"], False
            sf = Salesforce(instance_url=self.info["instance_url"], session_id=self.info["access_token"],
                            session=session, version="59.0")
            raw = getattr(sf, object.capitalize()).get(crm_id)
            return {k: raw.get(v) for k, v in SF_FIELDS.items()}
        client = HubSpot(access_token=self.info["access_token"], host=self.info["base_url"])
        api = client.crm.deals if object == "deal" else client.crm.contacts
        raw = api.basic_api.get_by_id(crm_id, properties=list(HS_FIELDS.values())).properties
        return {k: raw.get(v) for k, v in HS_FIELDS.items()}

    def record_updates(self) -> dict[str, int]:
        """Updates the Salesforce sandbox applied, per record id."""
        return self.calls()["record_updates"]


def start_crm(crm: str, seed: dict[str, Any], **options: Any) -> SandboxCrm:
    """A started sandbox of ``crm`` holding ``seed``."""
    return SandboxCrm(crm, make_sandbox(crm, seed=seed, **options).start())


def truthy(value: Any) -> bool:
    """A checkbox/bool property as the client returns it (bool or "true"/"false")."""
    return value is True or str(value).lower() == "true"


def connect_provisioned(services: Any, crm: SandboxCrm, name: str, **options: Any) -> int:
    """The id of a new connection to ``crm`` in a tenant of its own (both called ``name``), under
    the default map, its write-back fields provisioned. ``options`` go to ``connect``."""
    with services.session() as s:
        tenant = get_or_create_tenant(s, name).id
        conn = connect(s, services, tenant_id=tenant, name=name, crm=crm.crm,
                       values=crm.settings(), **options)
        apply_map(s, conn.id, default_map_text(), author="test")
        connection_id = conn.id
    provision(services, connection_id)
    return connection_id
