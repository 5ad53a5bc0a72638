"""Connector plug-ins by CRM name, so the service never says which CRM it is talking to.

A CRM is one :class:`~connectors.plugin.ConnectorSpec`. The built-in ones are listed below and
load on first use; an installed package adds its own through the ``journey_sync.connectors``
entry-point group (``name = "package.module:SPEC"``); a test or an embedding application calls
:func:`register`. Nothing else in the service changes when a CRM is added.
"""
from __future__ import annotations

import functools
from importlib import import_module
from importlib.metadata import entry_points

from connectors.plugin import ConnectorSpec

#: Entry-point group through which installed packages declare CRM plug-ins.
ENTRY_POINT_GROUP = "journey_sync.connectors"

#: Built-in CRM name -> module that exposes ``SPEC``.
_BUILT_IN = {
    "salesforce": "connectors.salesforce",
    "hubspot": "connectors.hubspot",
}

#: Plug-ins registered at run time, by name.
_registered: dict[str, ConnectorSpec] = {}


def register(spec: ConnectorSpec) -> ConnectorSpec:
    """Add (or replace) the plug-in ``spec.name``; returns ``spec``."""
    _registered[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a plug-in added with :func:`register` (built-in ones stay)."""
    _registered.pop(name, None)


@functools.cache
def _entry_points() -> dict[str, str]:
    """Installed plug-ins (read once per process: installing a package means a restart)."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def names() -> list[str]:
    """The CRM names a connection can be made for."""
    return sorted({*_BUILT_IN, *_entry_points(), *_registered})


def spec(name: str) -> ConnectorSpec:
    """The plug-in for CRM ``name``. Raises KeyError naming the known CRMs."""
    if name in _registered:
        return _registered[name]
    target = _BUILT_IN.get(name) or _entry_points().get(name)
    if target is None:
        raise KeyError(f"unknown CRM {name!r}; known: {', '.join(names())}")
    module, _, attribute = target.partition(":")
    return getattr(import_module(module), attribute or "SPEC")


def specs() -> list[ConnectorSpec]:
    """Every plug-in, by name."""
    return [spec(name) for name in names()]
