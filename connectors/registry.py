"""Connector plug-ins by CRM name, so the service never says which CRM it is talking to."""
from __future__ import annotations

from importlib import import_module

from connectors.base import ConnectorSpec

#: CRM name -> module that exposes ``SPEC``. Modules load on first use.
_MODULES = {
    "salesforce": "connectors.salesforce",
    "hubspot": "connectors.hubspot",
}


def names() -> list[str]:
    """The CRM names a connection can be made for."""
    return sorted(_MODULES)


def spec(name: str) -> ConnectorSpec:
    """The plug-in for CRM ``name``. Raises KeyError naming the known CRMs."""
    try:
        module = _MODULES[name]
    except KeyError:
        raise KeyError(f"unknown CRM {name!r}; known: {', '.join(names())}") from None
    return import_module(module).SPEC
