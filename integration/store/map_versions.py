"""Journey map versions per connection: every version kept, with author, comment and time."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from integration.store.models import MapVersion


def save_map_version(session: Session, connection_id: int, document: str, *, author: str,
                     comment: str = "") -> MapVersion:
    """Append a new version (numbered 1, 2, ...) holding the map's YAML text."""
    last = session.exec(select(func.max(MapVersion.version))
                        .where(MapVersion.connection_id == connection_id)).one()
    row = MapVersion(connection_id=connection_id, version=(last or 0) + 1, document=document,
                     author=author, comment=comment)
    session.add(row)
    session.flush()
    return row


def current_map_version(session: Session, connection_id: int) -> MapVersion | None:
    """The newest version, or None when the connection has no map yet."""
    return session.exec(select(MapVersion).where(MapVersion.connection_id == connection_id)
                        .order_by(MapVersion.version.desc())).first()


def map_version(session: Session, connection_id: int, version: int) -> MapVersion | None:
    """One version of a connection's map."""
    return session.exec(select(MapVersion).where(MapVersion.connection_id == connection_id,
                                                 MapVersion.version == version)).first()


def list_map_versions(session: Session, connection_id: int) -> list[MapVersion]:
    """All versions, newest first."""
    return list(session.exec(select(MapVersion).where(MapVersion.connection_id == connection_id)
                             .order_by(MapVersion.version.desc())))
