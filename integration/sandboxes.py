"""The local CRM sandboxes the demo, the CLI, the benchmarks and the tests use, by CRM name.

:class:`SandboxControl` gives both sandboxes one set of levers (latency, injected failures, a rep's
stage move, change notifications to the service); each CRM's lever is its sandbox's own
``/__sandbox__/`` endpoint.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

import requests

from connectors import registry
from connectors.seedfile import SeedError, load_seed_file

#: CRM name -> (module, class) of its sandbox.
SANDBOXES = {
    "salesforce": ("connectors.salesforce.sandbox", "SalesforceSandbox"),
    "hubspot": ("connectors.hubspot.sandbox", "HubSpotSandbox"),
}
#: CRM name -> (module, class) of a sandbox serving many accounts from one port (``portals=N``).
MULTI_SANDBOXES = {
    "hubspot": ("connectors.hubspot.sandbox", "HubSpotPortals"),
}


def make_sandbox(crm: str, seed_file: str | None = None, *, seed: dict | None = None,
                 portals: int = 1, **options: Any):
    """A (not yet started) sandbox of ``crm`` holding its part of a seed file or seed dict.

    With ``portals`` > 1, one server with that many separate accounts, each its own copy of the
    seed (see ``MULTI_SANDBOXES``). Raises :class:`SeedError` naming the file and the key path of
    every problem.
    """
    module, cls = SANDBOXES[crm]
    if portals != 1:
        if crm not in MULTI_SANDBOXES:
            raise SeedError(f"--portals: the {crm} sandbox serves one account; several are "
                            f"served by: {', '.join(sorted(MULTI_SANDBOXES))}")
        module, cls = MULTI_SANDBOXES[crm]
        options["portals"] = portals
    part = load_seed_file(seed_file).get(crm) if seed_file else (seed or {}).get(crm)
    try:
        return getattr(import_module(module), cls)(part, **options)
    except SeedError as exc:
        raise SeedError(f"{seed_file}: {exc}" if seed_file else str(exc)) from None


def sandbox_settings(crm: str, info: dict[str, Any]) -> dict[str, Any]:
    """The connector settings a sandbox's ``info()`` provides (matched by setting name)."""
    return {s.name: info[s.name] for s in registry.spec(crm).settings if s.name in info}


@dataclass
class SandboxControl:
    """The levers of one running sandbox."""

    crm: str
    sandbox: Any

    @property
    def info(self) -> dict[str, Any]:
        return self.sandbox.info()

    @property
    def url(self) -> str:
        return self.info.get("instance_url") or self.info["base_url"]

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        session = requests.Session()
        session.trust_env = False  # a proxy from the environment must not see sandbox traffic
        res = session.request(method, f"{self.url}/__sandbox__/{path}", json=body, timeout=10,
                              verify=self.info.get("ca_file") or True)
        res.raise_for_status()
        return res.json()

    def faults(self, *, error_share: float = 0.0, latency_ms: float = 0.0) -> None:
        """Added latency on every call, and a share of calls failing as the CRM fails under load
        (503 for Salesforce; 429 and 503 in equal parts for HubSpot)."""
        if self.crm == "salesforce":
            self._call("POST", "faults", {"error_503_share": error_share, "latency_ms": latency_ms})
        else:
            self._call("POST", "faults", {"rate_429": error_share / 2, "rate_503": error_share / 2})
            self._call("POST", "latency", {"ms": latency_ms})

    def move(self, object: str, crm_id: str, stage: str) -> None:
        """A rep moves a record to ``stage`` in the CRM (history, modification stamp, notification)."""
        if self.crm == "salesforce":
            self._call("POST", "move", {"Id": crm_id, "StageName": stage})
        else:
            field = "dealstage" if object == "deal" else "lifecyclestage"
            self._call("POST", "move", {"objectType": f"{object}s", "id": crm_id,
                                        "properties": {field: stage}})

    def subscribe(self, base_url: str) -> None:
        """Send change notifications to the service at ``base_url``, as a CRM admin would set up
        (HubSpot webhook subscriptions; a Salesforce outbound message on opportunity changes)."""
        if self.crm == "salesforce":
            self._call("POST", "outbound", {"url": f"{base_url}/webhooks/salesforce"})
        else:
            self._call("POST", "webhooks", {
                "targetUrl": f"{base_url}/webhooks/hubspot",
                "subscriptions": ["deal.propertyChange", "contact.propertyChange"],
                "propertyNames": ["dealstage", "lifecyclestage", "amount"]})

    def calls(self) -> dict[str, Any]:
        """API calls the sandbox counted, by route."""
        return self._call("GET", "counters" if self.crm == "salesforce" else "calls")
