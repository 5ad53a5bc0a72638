"""The stored :class:`connectors.base.MetadataCache` of one connection: CRM metadata (object
describes, pipelines, stage lists) kept between syncs and processes, each entry for a while."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from integration.store.models import ConnectorCache
from integration.store.types import utcnow


class StoredCache:
    """A connection's metadata cache in the database; entries expire after ``ttl_seconds``."""

    def __init__(self, session: Callable[[], Any], connection_id: int, ttl_seconds: int) -> None:
        self._session = session
        self.connection_id = connection_id
        self.ttl = timedelta(seconds=ttl_seconds)

    def get(self, key: str) -> Any | None:
        """The value kept under ``key`` unless it expired."""
        with self._session() as session:
            row = self._row(session, key)
            if row is None or row.expires_at <= utcnow():
                return None
            return row.value["value"]

    def put(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key`` for the cache's time to live."""
        try:
            with self._session() as session:
                row = self._row(session, key) or ConnectorCache(connection_id=self.connection_id, key=key,
                                                                value={}, expires_at=utcnow())
                row.value = {"value": value}
                row.expires_at = utcnow() + self.ttl
                session.add(row)
        except IntegrityError:
            # Another process stored the same key at the same moment: its value serves as well.
            pass

    def clear(self) -> None:
        """Forget every entry of the connection."""
        with self._session() as session:
            session.exec(delete(ConnectorCache).where(ConnectorCache.connection_id == self.connection_id))

    def _row(self, session: Session, key: str) -> ConnectorCache | None:
        return session.exec(select(ConnectorCache).where(
            ConnectorCache.connection_id == self.connection_id, ConnectorCache.key == key)).first()
