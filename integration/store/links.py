"""Record links: which stored records make one person or one deal across a tenant's connections."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Iterator, NamedTuple, Sequence

from sqlalchemy import delete, or_, update
from sqlmodel import Session, select

from integration.store.bulk import insert_rows, one_of
from integration.store.models import RecordLink, RecordState, same_record
from integration.store.values import values_from_json


Key = tuple[int, str, str]  # (connection id, object, CRM id)


class StoredLink(NamedTuple):
    """The columns of a link row the people pass compares."""

    id: int
    group_key: str
    email: str | None
    person_values: dict[str, Any] | None
    dangling: list[str] | None
    updated_at: datetime


_STORED = (RecordLink.id, RecordLink.group_key, RecordLink.email, RecordLink.person_values,
           RecordLink.dangling, RecordLink.updated_at)

#: A stored identity: (key, CRM, identity document, the record's ``updated_at``).
StoredIdentity = tuple[Key, str, "dict[str, Any] | None", datetime]


def identity_pages(session: Session, connection_ids: Sequence[int], size: int = 5000, *,
                   since_linked: bool = False) -> Iterator[list[StoredIdentity]]:
    """Every stored record's (key, CRM, identity document, stamp), ``size`` records a page in row
    order; with ``since_linked`` only those without a link row or stored again since their link
    was made (their ``updated_at`` is newer than the link's).

    Keyset pages (no cursor stays open while the caller writes between pages), and only the
    identity columns, never the record documents: a workspace may hold millions of records.
    """
    query = select(RecordState.id, RecordState.connection_id, RecordState.object,
                   RecordState.crm_id, RecordState.crm, RecordState.identity,
                   RecordState.updated_at).where(
        RecordState.connection_id.in_(connection_ids))
    if since_linked:
        query = query.outerjoin(RecordLink, same_record(RecordLink, RecordState)).where(
            or_(RecordLink.id.is_(None), RecordState.updated_at > RecordLink.updated_at))
    last = 0
    while True:
        rows = session.execute(query.where(RecordState.id > last).order_by(RecordState.id)
                               .limit(size)).all()
        if not rows:
            return
        last = rows[-1][0]
        yield [((cid, obj, crm_id), crm, identity, stamp)
               for _, cid, obj, crm_id, crm, identity, stamp in rows]


def links_by_key(session: Session, keys: Sequence[Key]) -> dict[Key, StoredLink]:
    """The link rows of these records by (connection id, object, CRM id), as plain tuples."""
    by_kind: dict[tuple[int, str], list[str]] = {}
    for cid, obj, crm_id in keys:
        by_kind.setdefault((cid, obj), []).append(crm_id)
    found: dict[Key, StoredLink] = {}
    for (cid, obj), ids in by_kind.items():
        for start in range(0, len(ids), 500):
            rows = session.execute(select(RecordLink.crm_id, *_STORED).where(
                RecordLink.connection_id == cid, RecordLink.object == obj,
                one_of(session, RecordLink.crm_id, ids[start:start + 500])))
            found.update(((cid, obj, crm_id), StoredLink(*rest)) for crm_id, *rest in rows)
    return found


def links_of_groups(session: Session, tenant_id: int, group_keys: Iterable[str]
                    ) -> dict[Key, StoredLink]:
    """The link rows of the given groups (people or deals), 500 groups a query."""
    keys = sorted(set(group_keys))
    found: dict[Key, StoredLink] = {}
    for start in range(0, len(keys), 500):
        rows = session.execute(select(RecordLink.connection_id, RecordLink.object,
                                      RecordLink.crm_id, *_STORED).where(
            RecordLink.tenant_id == tenant_id,
            one_of(session, RecordLink.group_key, keys[start:start + 500])))
        found.update(((cid, obj, crm_id), StoredLink(*rest)) for cid, obj, crm_id, *rest in rows)
    return found


def groups_around(session: Session, tenant_id: int, keys: Sequence[Key], emails: Iterable[str],
                  refs: Iterable[Key], ref_names: Iterable[str]) -> set[str]:
    """Group keys a set of changed records may leave or join: their own (``keys``), those
    holding their e-mail addresses, those of the records they name (``refs``, as keys), and
    those whose records name one of them but could not resolve it then (``ref_names``, as
    ``crm:object:id``; see :attr:`RecordLink.dangling`)."""
    groups: set[str] = set()
    by_kind: dict[tuple[int, str], list[str]] = {}
    for cid, obj, crm_id in (*keys, *refs):
        by_kind.setdefault((cid, obj), []).append(crm_id)
    for (cid, obj), ids in by_kind.items():
        for start in range(0, len(ids), 500):
            groups.update(session.execute(select(RecordLink.group_key).where(
                RecordLink.connection_id == cid, RecordLink.object == obj,
                one_of(session, RecordLink.crm_id, ids[start:start + 500]))).scalars())
    addresses = sorted(set(emails))
    for start in range(0, len(addresses), 500):
        groups.update(session.execute(select(RecordLink.group_key).where(
            RecordLink.tenant_id == tenant_id,
            one_of(session, RecordLink.email, addresses[start:start + 500]))).scalars())
    wanted = set(ref_names)
    if wanted:
        for group, dangling in session.execute(select(RecordLink.group_key, RecordLink.dangling)
                                               .where(RecordLink.tenant_id == tenant_id,
                                                      RecordLink.dangling.is_not(None))):
            if wanted.intersection(dangling or ()):
                groups.add(group)
    return groups


def delete_orphan_links(session: Session, tenant_id: int) -> int:
    """Delete the tenant's link rows whose record is no longer stored; returns how many."""
    stored = select(RecordState.id).where(same_record(RecordState, RecordLink))
    return session.execute(delete(RecordLink).where(RecordLink.tenant_id == tenant_id, ~stored.exists())
                           .execution_options(synchronize_session=False)).rowcount


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
