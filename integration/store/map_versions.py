"""Journey map versions: every version kept, with author, comment and time.

A version belongs to one connection (its own map, which overrides the workspace's) or, with
``connection_id=None`` and ``tenant_id``, to the workspace map of a tenant.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from integration.store.models import MapReview, MapVersion


def _scope(connection_id: int | None, tenant_id: int | None) -> Any:
    """The filter for one connection's versions, or the tenant's workspace versions."""
    if connection_id is not None:
        return MapVersion.connection_id == connection_id
    if tenant_id is None:
        raise ValueError("a map version belongs to a connection or to a tenant's workspace")
    return (MapVersion.tenant_id == tenant_id) & MapVersion.connection_id.is_(None)


def save_map_version(session: Session, connection_id: int | None, document: str, *, author: str,
                     comment: str = "", tenant_id: int | None = None) -> MapVersion:
    """Append a new version (numbered 1, 2, ...) holding the map's YAML text."""
    last = session.exec(select(func.max(MapVersion.version))
                        .where(_scope(connection_id, tenant_id))).one()
    row = MapVersion(connection_id=connection_id,
                     tenant_id=tenant_id if connection_id is None else None,
                     version=(last or 0) + 1, document=document, author=author, comment=comment)
    session.add(row)
    session.flush()
    return row


def current_map_version(session: Session, connection_id: int | None, *,
                        tenant_id: int | None = None) -> MapVersion | None:
    """The newest version, or None when there is no map yet."""
    return session.exec(select(MapVersion).where(_scope(connection_id, tenant_id))
                        .order_by(MapVersion.version.desc())).first()


def map_version(session: Session, connection_id: int | None, version: int, *,
                tenant_id: int | None = None) -> MapVersion | None:
    """One version of a connection's (or the workspace's) map."""
    return session.exec(select(MapVersion).where(_scope(connection_id, tenant_id),
                                                 MapVersion.version == version)).first()


def list_map_versions(session: Session, connection_id: int | None, *,
                      tenant_id: int | None = None) -> list[MapVersion]:
    """All versions, newest first."""
    return list(session.exec(select(MapVersion).where(_scope(connection_id, tenant_id))
                             .order_by(MapVersion.version.desc())))


def mark_map_reviewed(session: Session, tenant_id: int, connection_id: int | None, *,
                      version: int | None, reviewed_by: str) -> MapReview:
    """Record that RevOps reviewed a connection's own map (or, with ``connection_id=None``, the
    tenant's workspace map) at ``version`` and kept it as it is."""
    row = MapReview(tenant_id=tenant_id, connection_id=connection_id, version=version,
                    reviewed_by=reviewed_by)
    session.add(row)
    session.flush()
    return row


def last_reviewed(session: Session, tenant_id: int, connection_id: int | None) -> datetime | None:
    """When a map was last reviewed: its newest version saved or its newest "mark reviewed",
    whichever is later; None when neither happened."""
    scope = (MapReview.connection_id == connection_id if connection_id is not None
             else MapReview.connection_id.is_(None))
    marked = session.exec(select(func.max(MapReview.reviewed_at))
                          .where(MapReview.tenant_id == tenant_id, scope)).one()
    saved = session.exec(select(func.max(MapVersion.created_at))
                         .where(_scope(connection_id, tenant_id))).one()
    return max((m for m in (marked, saved) if m is not None), default=None)
