"""Record links: which stored records make one person or one deal across a tenant's connections."""
from __future__ import annotations

from typing import Any, Iterator, NamedTuple, Sequence

from sqlalchemy import delete, update
from sqlmodel import Session, select

from integration.store.bulk import insert_rows, one_of
from integration.store.models import RecordLink, RecordState
from integration.store.values import values_from_json


Key = tuple[int, str, str]  # (connection id, object, CRM id)


class StoredLink(NamedTuple):
    """The columns of a link row the people pass compares."""

    id: int
    group_key: str
    email: str | None
    person_values: dict[str, Any] | None


def identity_pages(session: Session, connection_ids: Sequence[int], size: int = 5000
                   ) -> Iterator[list[tuple[Key, str, dict[str, Any] | None]]]:
    """Every stored record's (key, CRM, identity document), ``size`` records a page in row order.

    Keyset pages (no cursor stays open while the caller writes between pages), and only the
    identity columns, never the record documents: a workspace may hold millions of records.
    """
    last = 0
    while True:
        rows = session.execute(
            select(RecordState.id, RecordState.connection_id, RecordState.object, RecordState.crm_id,
                   RecordState.crm, RecordState.identity)
            .where(RecordState.connection_id.in_(connection_ids), RecordState.id > last)
            .order_by(RecordState.id).limit(size)).all()
        if not rows:
            return
        last = rows[-1][0]
        yield [((cid, obj, crm_id), crm, identity) for _, cid, obj, crm_id, crm, identity in rows]


def links_by_key(session: Session, keys: Sequence[Key]) -> dict[Key, StoredLink]:
    """The link rows of these records by (connection id, object, CRM id), as plain tuples."""
    by_kind: dict[tuple[int, str], list[str]] = {}
    for cid, obj, crm_id in keys:
        by_kind.setdefault((cid, obj), []).append(crm_id)
    found: dict[Key, StoredLink] = {}
    for (cid, obj), ids in by_kind.items():
        for start in range(0, len(ids), 500):
            rows = session.execute(select(RecordLink.crm_id, RecordLink.id, RecordLink.group_key,
                                          RecordLink.email, RecordLink.person_values).where(
                RecordLink.connection_id == cid, RecordLink.object == obj,
                one_of(session, RecordLink.crm_id, ids[start:start + 500])))
            found.update(((cid, obj, crm_id), StoredLink(*rest)) for crm_id, *rest in rows)
    return found


def delete_orphan_links(session: Session, tenant_id: int) -> None:
    """Delete the tenant's link rows whose record is no longer stored."""
    stored = select(RecordState.id).where(RecordState.connection_id == RecordLink.connection_id,
                                          RecordState.object == RecordLink.object,
                                          RecordState.crm_id == RecordLink.crm_id)
    session.execute(delete(RecordLink).where(RecordLink.tenant_id == tenant_id, ~stored.exists())
                    .execution_options(synchronize_session=False))


def save_links(session: Session, inserts: list[dict[str, Any]], updates: list[dict[str, Any]],
               deletes: list[int]) -> None:
    """Write link rows in bulk: new ones, changed ones (by ``id``), and those of records gone."""
    insert_rows(session, RecordLink, inserts)
    if updates:
        session.execute(update(RecordLink), updates)
    for chunk in range(0, len(deletes), 500):
        session.execute(delete(RecordLink).where(one_of(session, RecordLink.id, deletes[chunk:chunk + 500]))
                        .execution_options(synchronize_session=False))


def record_documents(session: Session, keys: Sequence[Key]) -> dict[Key, dict[str, Any]]:
    """The stored record documents (``RecordState.record``) of these records, 500 ids a query."""
    by_kind: dict[tuple[int, str], list[str]] = {}
    for cid, obj, crm_id in keys:
        by_kind.setdefault((cid, obj), []).append(crm_id)
    found: dict[Key, dict[str, Any]] = {}
    for (cid, obj), ids in by_kind.items():
        for start in range(0, len(ids), 500):
            rows = session.execute(select(RecordState.crm_id, RecordState.record).where(
                RecordState.connection_id == cid, RecordState.object == obj,
                one_of(session, RecordState.crm_id, ids[start:start + 500])))
            found.update(((cid, obj, crm_id), record) for crm_id, record in rows)
    return found


def person_values_of(session: Session, connection_id: int,
                     keys: Sequence[tuple[str, str]] | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    """The write-back values people give this connection's linked records, by (object, CRM id);
    only for ``keys`` when given (one query per object kind)."""
    linked = select(RecordLink).where(RecordLink.connection_id == connection_id,
                                      RecordLink.person_values.is_not(None))
    if keys is None:
        queries = [linked]
    else:
        by_object: dict[str, list[str]] = {}
        for obj, crm_id in keys:
            by_object.setdefault(obj, []).append(crm_id)
        queries = [linked.where(RecordLink.object == obj, one_of(session, RecordLink.crm_id, ids))
                   for obj, ids in by_object.items()]
    return {(row.object, row.crm_id): values_from_json(row.person_values)
            for query in queries for row in session.exec(query)}


def group_members(session: Session, tenant_id: int, group_keys: list[str]) -> list[RecordLink]:
    """The link rows of the given groups, ordered by group then record."""
    if not group_keys:
        return []
    return list(session.exec(select(RecordLink).where(
        RecordLink.tenant_id == tenant_id, RecordLink.group_key.in_(group_keys))
        .order_by(RecordLink.group_key, RecordLink.connection_id, RecordLink.object,
                  RecordLink.crm_id)))


def groups_with_email(session: Session, tenant_id: int, email: str) -> list[str]:
    """Group keys of the people who have a record with this (normalised) e-mail address."""
    return sorted(set(session.exec(select(RecordLink.group_key).where(
        RecordLink.tenant_id == tenant_id, RecordLink.email == email))))


def tenant_groups(session: Session, tenant_id: int, kind: str,
                  connection_id: int | None = None) -> dict[str, list[RecordLink]]:
    """Every group of ``kind`` (person or deal) in the tenant, optionally only one connection's records."""
    query = select(RecordLink).where(RecordLink.tenant_id == tenant_id, RecordLink.kind == kind)
    if connection_id is not None:
        query = query.where(RecordLink.connection_id == connection_id)
    groups: dict[str, list[RecordLink]] = {}
    for row in session.exec(query.order_by(RecordLink.group_key)):
        groups.setdefault(row.group_key, []).append(row)
    return groups
