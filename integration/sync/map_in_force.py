"""The journey map in force for a connection: its own map, else its workspace's, else the default."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from sqlmodel import Session

from connectors import registry
from integration.store.map_versions import current_map_version
from integration.store.models import Connection, MapVersion
from mapping import (JourneyMap, default_map, map_from_dict, map_to_dict, parse_map,
                     writeback_choices)


def default_map_for(crm: str) -> JourneyMap:
    """The packaged default map, with the CRM plug-in's default sources when the map has none
    for that CRM (a CRM added as a plug-in brings its own)."""
    jmap = default_map()
    if crm in jmap.sources:
        return jmap
    data = map_to_dict(jmap)
    data.setdefault("sources", {})[crm] = dict(registry.spec(crm).map_sources())
    return map_from_dict(data, source=f"default map with the {crm} plug-in's sources")


@dataclass(frozen=True)
class MapInForce:
    """A map and where it comes from.

    ``scope`` says whose map it is; ``version`` is its number there (None for the default map);
    ``row_id`` names the stored version, so it changes whenever the map in force changes.
    """

    jmap: JourneyMap
    scope: Literal["connection", "workspace", "default"]
    version: int | None
    row_id: int | None


def _from_row(row: MapVersion | None, scope: Literal["connection", "workspace"]) -> MapInForce | None:
    if row is None:
        return None
    source = f"{'workspace ' if scope == 'workspace' else ''}map version {row.version}"
    return MapInForce(_parsed(row.document, source), scope, row.version, row.id)


@lru_cache(maxsize=512)
def _parsed(document: str, source: str) -> JourneyMap:
    """A map document parsed once: maps are immutable, so every request of every tenant holding
    the same text shares one parsed map (the card endpoint would otherwise re-parse the YAML on
    every request)."""
    return parse_map(document, source=source)


def workspace_map(session: Session, tenant_id: int) -> MapInForce:
    """The tenant's workspace map (the default map while it has none)."""
    found = _from_row(current_map_version(session, None, tenant_id=tenant_id), "workspace")
    return found or MapInForce(default_map(), "default", None, None)


def map_in_force(session: Session, connection_id: int) -> MapInForce:
    """The connection's own newest map version, else its workspace map, else the default map."""
    own = _from_row(current_map_version(session, connection_id), "connection")
    if own is not None:
        return own
    conn = session.get(Connection, connection_id)
    found = workspace_map(session, conn.tenant_id)
    if found.scope == "default":
        return MapInForce(default_map_for(conn.crm), "default", None, None)
    return found


def connection_map(session: Session, connection_id: int) -> tuple[JourneyMap, int | None]:
    """The map in force for a connection and its version number (None for the default map)."""
    found = map_in_force(session, connection_id)
    return found.jmap, found.version


def choices_changed(session: Session, old_row_id: int | None, new_map: JourneyMap) -> bool:
    """Whether ``new_map`` gives the CRM's choice fields other options than the stored map
    version ``old_row_id`` did (None, or a version since deleted: the default map)."""
    row = session.get(MapVersion, old_row_id) if old_row_id is not None else None
    old_map = _parsed(row.document, f"map version {row.version}") if row else default_map()
    return writeback_choices(old_map) != writeback_choices(new_map)
