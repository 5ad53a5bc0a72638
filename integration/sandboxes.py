"""Starting the local CRM sandboxes the demo, the CLI and the tests use, by CRM name."""
from __future__ import annotations

from importlib import import_module
from typing import Any

from connectors import registry
from connectors.seedfile import SeedError, load_seed_file

#: CRM name -> (module, class) of its sandbox.
SANDBOXES = {
    "salesforce": ("connectors.salesforce.sandbox", "SalesforceSandbox"),
    "hubspot": ("connectors.hubspot.sandbox", "HubSpotSandbox"),
}


def make_sandbox(crm: str, seed_file: str | None = None, *, seed: dict | None = None,
                 **options: Any):
    """A (not yet started) sandbox of ``crm`` holding its part of a seed file or seed dict.

    Raises :class:`SeedError` naming the file and the key path of every problem.
    """
    module, cls = SANDBOXES[crm]
    part = load_seed_file(seed_file).get(crm) if seed_file else (seed or {}).get(crm)
    try:
        return getattr(import_module(module), cls)(part, **options)
    except SeedError as exc:
        raise SeedError(f"{seed_file}: {exc}" if seed_file else str(exc)) from None


def sandbox_settings(crm: str, info: dict[str, Any]) -> dict[str, Any]:
    """The connector settings a sandbox's ``info()`` provides (matched by setting name)."""
    return {s.name: info[s.name] for s in registry.spec(crm).settings if s.name in info}
