"""Owner names per connection: CRM owner id -> the person's name, for pages, API, card and CSV."""
from __future__ import annotations

from typing import Iterable, Mapping

from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from integration.store.models import CrmOwner, RecordState
from integration.store.types import utcnow


def owner_names(session: Session, connection_id: int, ids: Iterable[str | None] | None = None
                ) -> dict[str, str]:
    """Known names of the connection's owners (only ``ids`` when given)."""
    query = select(CrmOwner).where(CrmOwner.connection_id == connection_id)
    if ids is not None:
        wanted = sorted({i for i in ids if i})
        if not wanted:
            return {}
        query = query.where(CrmOwner.owner_id.in_(wanted))
    return {row.owner_id: row.name for row in session.exec(query)}


def unnamed_owner_ids(session: Session, connection_id: int) -> list[str]:
    """Owner ids that records hold and whose name is not stored yet."""
    held = session.execute(sa_select(RecordState.owner_id).distinct().where(
        RecordState.connection_id == connection_id, RecordState.owner_id.is_not(None))).scalars()
    known = set(owner_names(session, connection_id))
    return sorted(set(held) - known)


def save_owner_names(session: Session, connection_id: int, names: Mapping[str, str]) -> None:
    """Insert or update the names of these owners."""
    rows = {row.owner_id: row for row in session.exec(select(CrmOwner).where(
        CrmOwner.connection_id == connection_id, CrmOwner.owner_id.in_(list(names))))}
    for owner_id, name in names.items():
        row = rows.get(owner_id) or CrmOwner(connection_id=connection_id, owner_id=owner_id, name=name)
        row.name, row.updated_at = name, utcnow()
        session.add(row)
