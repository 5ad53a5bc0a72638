"""Map versions as the service sees them: apply (validate and store), preview, coverage.

The CLI, the REST API and the web pages all go through these, so a map is checked the same way
whichever door it comes in by.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from integration.services import Services
from integration.store.connections import connection_by_id, list_connections
from integration.store.map_versions import current_map_version, save_map_version
from integration.store.models import MapVersion
from integration.store.records import iter_states
from integration.store.types import utcnow
from integration.sync.map_in_force import connection_map
from mapping import JourneyMap, MapValidationError, coverage, map_to_yaml, parse_map, preview
from mapping.serialize import record_from_dict, state_from_dict


class MapRejected(ValueError):
    """A map failed validation; ``problems`` lists every problem (nothing was saved)."""

    def __init__(self, problems: list[Any]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the map")
        self.problems = problems


def check_map(text: str, source: str = "<map>") -> JourneyMap:
    """Parse and validate map text. Raises :class:`MapRejected` with every problem."""
    try:
        return parse_map(text, source=source)
    except MapValidationError as exc:
        raise MapRejected(list(exc.problems)) from None


def apply_map(session: Session, connection_id: int | None, text: str, *, author: str,
              comment: str = "", source: str = "<map>", tenant_id: int | None = None) -> MapVersion:
    """Validate ``text`` and store it as the connection's next map version (normalised YAML).

    With ``connection_id=None`` and ``tenant_id`` it becomes the workspace map's next version: the
    map of every connection of the tenant that has no map of its own.
    """
    jmap = check_map(text, source)
    return save_map_version(session, connection_id, map_to_yaml(jmap), author=author,
                            comment=comment, tenant_id=tenant_id)


def preview_map(session: Session, connection_id: int, jmap: JourneyMap | None, *,
                now: datetime | None = None, sample: int = 20) -> dict[str, Any]:
    """Dry run ``jmap`` (default: the map in force) over the stored records. Saves nothing."""
    if jmap is None:
        jmap, _ = connection_map(session, connection_id)
    return _preview(session, [connection_id], jmap, now, sample)


def preview_workspace_map(session: Session, tenant_id: int, jmap: JourneyMap, *,
                          now: datetime | None = None, sample: int = 20) -> dict[str, Any]:
    """Dry run a workspace map over the stored records of every connection it would serve (those
    without a map of their own). Saves nothing."""
    governed = [c.id for c in list_connections(session, tenant_id)
                if current_map_version(session, c.id) is None]
    return _preview(session, governed, jmap, now, sample)


def _preview(session: Session, connection_ids: list[int], jmap: JourneyMap,
             now: datetime | None, sample: int) -> dict[str, Any]:
    pairs = ((record_from_dict(row.record), state_from_dict(row.state))
             for connection_id in connection_ids for row in iter_states(session, connection_id))
    return preview(pairs, jmap, now or utcnow(), sample=sample).to_dict()


def map_coverage(services: Services, connection_id: int,
                 jmap: JourneyMap | None = None) -> dict[str, Any]:
    """The CRM's real stages against the map: mapped, unmapped, and map entries the CRM lacks."""
    with services.session() as session:
        conn = connection_by_id(session, connection_id)
        if jmap is None:
            jmap, _ = connection_map(session, connection_id)
    connector = services.open_connector(conn)
    return coverage(jmap, conn.crm, connector.stages()).to_dict()
