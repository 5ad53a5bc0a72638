"""Map versions as the service sees them: apply (validate and store), preview, coverage, what each
version changed and how the numbers moved after it, and reminders to review maps.

The CLI, the REST API and the web pages all go through these, so a map is checked the same way
whichever door it comes in by.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlmodel import Session

import yaml

from integration.map_effect import version_effect
from integration.services import Services
from integration.store.connections import connection_by_id, list_connections
from integration.store.map_versions import (current_map_version, last_reviewed, list_map_versions,
                                            mark_map_reviewed, save_map_version)
from integration.store.models import MapVersion
from integration.store.records import iter_states
from integration.store.types import utcnow
from integration.sync.map_in_force import MapInForce, connection_map, map_in_force, workspace_map
from integration.unmapped import unmapped_summary
from mapping import JourneyMap, MapValidationError, coverage, map_to_yaml, parse_map, preview
from mapping.changes import change_summary, map_changes
from mapping.review import ReviewStatus, review_status
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


def governed_connections(session: Session, tenant_id: int) -> list[int]:
    """Ids of the tenant's connections the workspace map serves (those without a map of their own)."""
    return [c.id for c in list_connections(session, tenant_id)
            if current_map_version(session, c.id) is None]


def preview_workspace_map(session: Session, tenant_id: int, jmap: JourneyMap, *,
                          now: datetime | None = None, sample: int = 20) -> dict[str, Any]:
    """Dry run a workspace map over the stored records of every connection it would serve (those
    without a map of their own). Saves nothing."""
    return _preview(session, governed_connections(session, tenant_id), jmap, now, sample)


def _preview(session: Session, connection_ids: list[int], jmap: JourneyMap,
             now: datetime | None, sample: int) -> dict[str, Any]:
    pairs = ((record_from_dict(row.record), state_from_dict(row.state))
             for connection_id in connection_ids for row in iter_states(session, connection_id))
    return preview(pairs, jmap, now or utcnow(), sample=sample).to_dict()


def map_coverage(services: Services, connection_id: int,
                 jmap: JourneyMap | None = None) -> dict[str, Any]:
    """The CRM's real stages against the map: mapped, unmapped, and map entries the CRM lacks;
    and ``unmapped_records``, the stored records the map does not place, counted by reason."""
    with services.session() as session:
        conn = connection_by_id(session, connection_id)
        if jmap is None:
            jmap, _ = connection_map(session, connection_id)
        records = unmapped_summary(session, connection_id, conn.crm, jmap)
    connector = services.open_connector(conn)
    return {**coverage(jmap, conn.crm, connector.stages()).to_dict(), "unmapped_records": records}


#: libyaml's loader when PyYAML was built with it: the history page reads every version.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=256)
def _document(text: str) -> dict[str, Any]:
    """A stored map document as plain data, parsed once per text (versions never change; callers
    only read it). An unreadable one reads as empty: it changed everything."""
    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def version_changes(older: MapVersion | None, newer: MapVersion) -> dict[str, Any]:
    """What ``newer`` changed against ``older`` (None: it is the first version): every change and
    a one-line summary."""
    if older is None:
        return {"first": True, "summary": "First version", "changes": []}
    changes = map_changes(_document(older.document), _document(newer.document))
    return {"first": False, "summary": change_summary(changes),
            "changes": [change.to_dict() for change in changes]}


def history(session: Session, connection_id: int | None, tenant_id: int) -> list[dict[str, Any]]:
    """Every version of a connection's own map (or, with ``connection_id=None``, of the tenant's
    workspace map), newest first, each with what it changed against the one before."""
    versions = list_map_versions(session, connection_id, tenant_id=tenant_id)
    return [{"row": row, **version_changes(older, row)}
            for row, older in zip(versions, [*versions[1:], None])]


def versions_effect(session: Session, connection_ids: list[int], jmap: JourneyMap,
                    row: MapVersion, now: datetime | None = None) -> dict[str, Any]:
    """Conversion and time in stage over the stored events of ``connection_ids`` in the 30 days
    before and after ``row`` was saved (its effective date)."""
    return version_effect(session, connection_ids, jmap, row.created_at, now or utcnow())


def version_in_force_effect(session: Session, connection_id: int,
                            now: datetime | None = None) -> dict[str, Any] | None:
    """The before/after figures of the map version in force for one connection (its own map's,
    else the workspace map's), as its history page first shows them; None for the default map."""
    found = map_in_force(session, connection_id)
    if found.row_id is None:
        return None
    return versions_effect(session, [connection_id], found.jmap,
                           session.get(MapVersion, found.row_id), now)


#: Versions of a map whose before/after figures the worker keeps computed, newest first.
WARMED_VERSIONS = 12


def warm_versions_effect(session: Session, connection_id: int, now: datetime | None = None) -> None:
    """Compute the before/after figures of the newest versions of the connection's map in force
    (the version in force first) unless kept ones serve (see :mod:`integration.map_effect`), so
    that its history opens from stored figures whichever version is chosen."""
    found = map_in_force(session, connection_id)
    if found.row_id is None:
        return
    in_force = session.get(MapVersion, found.row_id)
    for row in list_map_versions(session, in_force.connection_id,
                                 tenant_id=in_force.tenant_id)[:WARMED_VERSIONS]:
        versions_effect(session, [connection_id], found.jmap, row, now)


def mark_reviewed(session: Session, tenant_id: int, connection_id: int | None, *,
                  reviewed_by: str) -> None:
    """Record that a connection's own map (None: the workspace map) was reviewed and kept as is."""
    current = current_map_version(session, connection_id, tenant_id=tenant_id)
    mark_map_reviewed(session, tenant_id, connection_id,
                      version=current.version if current else None, reviewed_by=reviewed_by)


def review_reminders(session: Session, tenant_id: int,
                     now: datetime | None = None) -> list[dict[str, Any]]:
    """The tenant's maps in use that are due for review: the workspace map while a connection
    uses it, and each connection's own map. Each as ``{connection, found, status}`` (connection
    None for the workspace map)."""
    now = now or utcnow()
    due = []

    def check(connection: Any, found: MapInForce) -> None:
        status: ReviewStatus = review_status(
            found.jmap, last_reviewed(session, tenant_id, connection.id if connection else None), now)
        if status.due:
            due.append({"connection": connection, "found": found, "status": status})

    connections = list_connections(session, tenant_id)
    if any(current_map_version(session, c.id) is None for c in connections):
        check(None, workspace_map(session, tenant_id))
    for conn in connections:
        found = map_in_force(session, conn.id)
        if found.scope == "connection":
            check(conn, found)
    return due
