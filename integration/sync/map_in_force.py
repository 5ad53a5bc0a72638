"""The journey map in force for a connection."""
from __future__ import annotations

from sqlmodel import Session

from integration.store.map_versions import current_map_version
from mapping import JourneyMap, default_map, parse_map


def connection_map(session: Session, connection_id: int) -> tuple[JourneyMap, int | None]:
    """The connection's newest map version and its number; the default map (version None) if none."""
    row = current_map_version(session, connection_id)
    if row is None:
        return default_map(), None
    return parse_map(row.document, source=f"map version {row.version}"), row.version
