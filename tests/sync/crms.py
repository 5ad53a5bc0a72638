"""Test-side adapters over the two sandboxes: start one with a book, read records back through the
CRM's own client library (simple-salesforce, hubspot-api-client), move a stage as a rep would,
and switch faults on. Tests speak to these so one test body serves both CRMs."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from hubspot import HubSpot
from simple_salesforce import Salesforce

from integration.demo.seed import demo_seed
from integration.sandboxes import make_sandbox, sandbox_settings

SF_FIELDS = {"journey_stage": "Journey_Stage__c", "persona": "Journey_Persona__c",
             "next_best_action": "Next_Best_Action__c", "stalled": "Journey_Stalled__c"}
HS_FIELDS = {"journey_stage": "journey_stage", "persona": "journey_persona",
             "next_best_action": "journey_next_best_action", "stalled": "journey_stalled"}


def small_book(now: datetime) -> dict[str, Any]:
    """A demo book small enough for quick tests, big enough for several write batches."""
    return demo_seed(now, opportunities=260, leads=30, sf_contacts=20, deals=230, hs_contacts=40)


@dataclass
class SandboxCrm:
    """One started sandbox and how tests talk to it."""

    crm: str
    box: Any

    @property
    def info(self) -> dict[str, Any]:
        return self.box.info()

    def settings(self) -> dict[str, Any]:
        return sandbox_settings(self.crm, self.info)

    def stop(self) -> None:
        self.box.stop()

    # -- reading back through the CRM's own client ------------------------------------------
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

    def move(self, object: str, crm_id: str, stage: str) -> None:
        """A rep moves a record to ``stage`` (through the CRM's API, as an edit would)."""
        if self.crm == "salesforce":
            self._sf_control("move", {"Id": crm_id, "StageName": stage})
        else:
            field = "dealstage" if object == "deal" else "lifecyclestage"
            requests.post(f"{self.info['base_url']}/__sandbox__/move", timeout=10, json={
                "objectType": f"{object}s", "id": crm_id, "properties": {field: stage}}
                          ).raise_for_status()

    def faults(self, *, error_share: float = 0.0, latency_ms: float = 0.0) -> None:
        """Inject a share of 503s (Salesforce) or 429s and 503s (HubSpot), and latency."""
        if self.crm == "salesforce":
            self._sf_control("faults", {"error_503_share": error_share, "latency_ms": latency_ms})
        else:
            base = self.info["base_url"]
            requests.post(f"{base}/__sandbox__/faults", timeout=10, json={
                "rate_429": error_share / 2, "rate_503": error_share / 2}).raise_for_status()
            requests.post(f"{base}/__sandbox__/latency", timeout=10,
                          json={"ms": latency_ms}).raise_for_status()

    def _sf_control(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        session = requests.Session()
        session.trust_env = False
        res = session.post(f"{self.info['instance_url']}/__sandbox__/{path}", json=body,
                           verify=self.info["ca_file"], timeout=10)
        res.raise_for_status()
        return res.json()


def start_crm(crm: str, seed: dict[str, Any], **options: Any) -> SandboxCrm:
    """A started sandbox of ``crm`` holding ``seed``."""
    return SandboxCrm(crm, make_sandbox(crm, seed=seed, **options).start())


def truthy(value: Any) -> bool:
    """A checkbox/bool property as the client returns it (bool or "true"/"false")."""
    return value is True or str(value).lower() == "true"
