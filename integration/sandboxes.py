"""The local CRM sandboxes the demo, the CLI, the benchmarks and the tests use, from the registry.

Every plug-in that declares a sandbox (``ConnectorSpec.sandbox``) gets one here, and every sandbox
serves the same control API under ``/__sandbox__/`` (see ``connectors.sandbox_control``), so
:class:`SandboxControl` pulls the same levers on any CRM without knowing which it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from connectors import registry
from connectors.plugin import Sandbox
from connectors.seedfile import SeedError, load_seed_file


def sandbox_crms() -> list[str]:
    """The CRMs whose plug-in declares a sandbox."""
    return [spec.name for spec in registry.specs() if spec.sandbox is not None]


def make_sandbox(crm: str, seed_file: str | None = None, *, seed: dict | None = None,
                 portals: int = 1, **options: Any) -> Sandbox:
    """A (not yet started) sandbox of ``crm`` holding its part of a seed file or seed dict.

    With ``portals`` > 1, one server with that many separate accounts, each its own copy of the
    seed (for sandboxes that declare ``make_many``). Raises :class:`SeedError` naming the file and
    the key path of every problem, and KeyError for a CRM without a sandbox.
    """
    spec = registry.spec(crm)
    if spec.sandbox is None:
        raise KeyError(f"{spec.label} has no sandbox")
    make = spec.sandbox.make
    if portals != 1:
        if spec.sandbox.make_many is None:
            many = [s.name for s in registry.specs() if s.sandbox and s.sandbox.make_many]
            raise SeedError(f"--portals: the {crm} sandbox serves one account; several are "
                            f"served by: {', '.join(many)}")
        make, options = spec.sandbox.make_many, {**options, "portals": portals}
    part = load_seed_file(seed_file).get(crm) if seed_file else (seed or {}).get(crm)
    try:
        return make(part, **options)
    except SeedError as exc:
        raise SeedError(f"{seed_file}: {exc}" if seed_file else str(exc)) from None


def sandbox_settings(crm: str, info: dict[str, Any]) -> dict[str, Any]:
    """The connector settings a sandbox's ``info()`` provides (matched by setting name)."""
    return {s.name: info[s.name] for s in registry.spec(crm).settings if s.name in info}


@dataclass
class SandboxControl:
    """The levers of one running sandbox, through its ``/__sandbox__/`` control API."""

    crm: str
    sandbox: Sandbox

    @property
    def info(self) -> dict[str, Any]:
        return self.sandbox.info()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        session = requests.Session()
        session.trust_env = False  # a proxy from the environment must not see sandbox traffic
        res = session.request(method, f"{self.sandbox.url}/__sandbox__/{path}", json=body,
                              timeout=10, verify=self.info.get("ca_file") or True)
        res.raise_for_status()
        return res.json()

    def faults(self, *, error_share: float = 0.0, latency_ms: float = 0.0) -> None:
        """Added latency on every call, and a share of calls failing as the CRM fails under load."""
        self._call("POST", "faults", {"error_share": error_share, "latency_ms": latency_ms})

    def move(self, object: str, crm_id: str, stage: str) -> None:
        """A rep moves a record to ``stage`` in the CRM (history, modification stamp, notification)."""
        self._call("POST", "move", {"object": object, "id": crm_id, "stage": stage})

    def subscribe(self, url: str) -> None:
        """Send change notifications to ``url`` (a connection's
        :func:`~integration.notification_urls.notification_url`), as a CRM admin would set up."""
        self._call("POST", "notifications", {"url": url})

    def calls(self) -> dict[str, Any]:
        """API calls the sandbox counted (``calls``, ``by_route``) and its own counters."""
        return self._call("GET", "counters")
