"""Connections: a tenant's connected CRM accounts, their encrypted credentials and work leases."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import delete, or_, update
from sqlmodel import Session, select

from integration.store.models import (AnalyticsCache, Connection, ConnectorCache, CrmOwner, CrmTask,
                                      JourneyEvent, JourneyRollup, JourneySummary, MapReview,
                                      MapVersion, OpenedView, OutboxItem, PendingRecord, RecordLink,
                                      RecordState, SyncRun, WebhookDelivery)
from integration.store.secrets import SecretBox
from integration.store.types import id_or_none, utcnow


class NotFound(LookupError):
    """No such row for this tenant."""


def create_connection(session: Session, secret_box: SecretBox, *, tenant_id: int, name: str, crm: str,
                      settings: Mapping[str, Any], secrets: Mapping[str, Any],
                      sync_interval_seconds: int = 300, account_id: str | None = None) -> Connection:
    """Store a new connection; ``secrets`` are encrypted, ``settings`` kept in clear."""
    conn = Connection(tenant_id=tenant_id, name=name, crm=crm, settings=dict(settings),
                      secrets=secret_box.seal(secrets), sync_interval_seconds=sync_interval_seconds,
                      account_id=account_id)
    session.add(conn)
    session.flush()
    return conn


def get_connection(session: Session, tenant_id: int, ref: str | int) -> Connection:
    """A tenant's connection by id or name. Raises :class:`NotFound`."""
    query = select(Connection).where(Connection.tenant_id == tenant_id)
    connection_id = id_or_none(ref)
    if connection_id is not None:
        query = query.where(or_(Connection.id == connection_id, Connection.name == str(ref)))
    else:
        query = query.where(Connection.name == ref)
    conn = session.exec(query).first()
    if conn is None:
        raise NotFound(f"no connection {ref!r}")
    return conn


def connection_by_id(session: Session, connection_id: int) -> Connection:
    """A connection by id, for internal work that already holds a tenant-checked id."""
    conn = session.get(Connection, connection_id)
    if conn is None:
        raise NotFound(f"no connection {connection_id}")
    return conn


def list_connections(session: Session, tenant_id: int | None = None) -> list[Connection]:
    """A tenant's connections (every tenant's when ``tenant_id`` is None: the worker's view)."""
    query = select(Connection).order_by(Connection.id)
    if tenant_id is not None:
        query = query.where(Connection.tenant_id == tenant_id)
    return list(session.exec(query))


def connections_for_account(session: Session, crm: str, account_id: str) -> list[Connection]:
    """Connections to one CRM account (portal id, org id): how webhooks find their connection."""
    return list(session.exec(select(Connection).where(Connection.crm == crm,
                                                      Connection.account_id == account_id)))


def delete_connection(session: Session, conn: Connection) -> None:
    """Remove a connection and every row that belongs to it.

    The connection row is locked first (PostgreSQL), so a sync running meanwhile cannot add rows
    for it between these deletes: its next write waits, then fails, and it stops.
    """
    session.exec(select(Connection.id).where(Connection.id == conn.id).with_for_update())
    for model in (JourneyRollup, JourneySummary, JourneyEvent, RecordState, OutboxItem, SyncRun, MapVersion, MapReview,
                  WebhookDelivery, PendingRecord, RecordLink, ConnectorCache, CrmOwner, CrmTask,
                  AnalyticsCache, OpenedView):
        session.exec(delete(model).where(model.connection_id == conn.id))
    session.delete(conn)


def connection_config(secret_box: SecretBox, conn: Connection) -> dict[str, Any]:
    """Settings and decrypted secrets merged: what the connector factory needs."""
    return {**conn.settings, **secret_box.open(conn.secrets)}


def store_tokens(session: Session, secret_box: SecretBox, connection_id: int,
                 tokens: Mapping[str, Any]) -> None:
    """Merge refreshed tokens into a connection's encrypted secrets."""
    conn = connection_by_id(session, connection_id)
    conn.secrets = secret_box.seal({**secret_box.open(conn.secrets), **tokens})
    session.add(conn)


def acquire_lease(session: Session, connection_id: int, owner: str, seconds: int,
                  now: datetime | None = None) -> bool:
    """Take the connection's work lease unless another owner holds an unexpired one.

    One conditional UPDATE, so two workers racing for it cannot both win on either database.
    """
    now = now or utcnow()
    result = session.execute(
        update(Connection)
        .where(Connection.id == connection_id)
        .where(or_(Connection.lease_owner.is_(None), Connection.lease_owner == owner,
                   Connection.lease_expires_at < now))
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=seconds))
    )
    session.commit()
    return result.rowcount == 1


def lease_holder(session: Session, connection_id: int) -> str | None:
    """Who holds the connection's lease now (None when free or expired)."""
    conn = connection_by_id(session, connection_id)
    if conn.lease_owner and conn.lease_expires_at and conn.lease_expires_at > utcnow():
        return conn.lease_owner
    return None


def take_over_lease(session: Session, connection_id: int, stale_owner: str, owner: str,
                    seconds: int) -> bool:
    """Take the lease from ``stale_owner`` (known to be dead), unless it changed hands meanwhile."""
    result = session.execute(
        update(Connection)
        .where(Connection.id == connection_id, Connection.lease_owner == stale_owner)
        .values(lease_owner=owner, lease_expires_at=utcnow() + timedelta(seconds=seconds)))
    session.commit()
    return result.rowcount == 1


def renew_lease(session: Session, connection_id: int, owner: str, seconds: int, *,
                commit: bool = True) -> bool:
    """Extend ``owner``'s lease by ``seconds`` from now; False when it no longer holds it.
    ``commit=False`` leaves the transaction open for more writes under the lease."""
    result = session.execute(
        update(Connection)
        .where(Connection.id == connection_id, Connection.lease_owner == owner)
        .values(lease_expires_at=utcnow() + timedelta(seconds=seconds)))
    if commit:
        session.commit()
    return result.rowcount == 1


def holds_lease(session: Session, connection_id: int, owner: str) -> bool:
    """Whether ``owner`` holds the connection's unexpired lease, as a write in the caller's
    transaction: until it commits, no one can take the lease over (PostgreSQL locks the row,
    SQLite the database), so what the transaction claims is claimed under the lease."""
    result = session.execute(
        update(Connection)
        .where(Connection.id == connection_id, Connection.lease_owner == owner,
               Connection.lease_expires_at > utcnow())
        .values(lease_owner=owner))
    return result.rowcount == 1


def release_lease(session: Session, connection_id: int, owner: str) -> None:
    """Give the lease back if ``owner`` still holds it."""
    session.execute(update(Connection)
                    .where(Connection.id == connection_id, Connection.lease_owner == owner)
                    .values(lease_owner=None, lease_expires_at=None))
    session.commit()
