"""The write-back outbox: planned CRM updates survive crashes and CRM failures.

An item moves pending -> sending -> (deleted when the CRM confirms) or back to pending with a
backoff, or to parked after the attempt limit. Items left in ``sending`` by a dead process are
reconciled against the CRM before anything is sent again, once no batch carrying them can still
land (``next_attempt_at`` of a ``sending`` item), so no update is applied twice.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, Collection, Iterable, Mapping, Sequence

from sqlalchemy import and_, delete, func, not_, or_, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from integration.store.bulk import insert_rows, one_of
from integration.store.models import OutboxItem
from integration.store.types import utcnow
from integration.store.values import values_from_json, values_to_json

OPEN = ("pending", "sending", "parked")


def replace_plans(session: Session, connection_id: int,
                  plans: Mapping[tuple[str, str], Mapping[str, Any] | None],
                  run_id: int | None = None) -> None:
    """Set each record's plan: ``values`` to queue, or None when the CRM already holds the plan.

    The newest plan replaces every open item of the record, ``sending`` ones whose time in flight
    is over included (their process died or lost its lease). Whether such an update landed is
    unknown, and a plan made from the values we stored (the stall pass, the people pass) or read
    before the update's time was over cannot tell: so a plan replacing one stays ``sending``, due
    now, and the flush asks the CRM before sending it (it is sent only if the CRM does not hold it
    already), so no update is applied twice. A ``sending`` item still in flight
    (``next_attempt_at`` in the future: a batch a previous lease holder sent may yet land) is
    kept, and its record gets no plan now: the outcome is settled against the CRM once its time
    is over, and the record planned again at its next read. The record's failed attempts carry
    over to its new plan, with their backoff and last error, so re-planning a failing record on
    every poll still parks it after the attempt limit; a parked plan planned again unchanged stays
    parked. One SELECT and one DELETE per object kind, one INSERT for the lot.
    """
    by_object: dict[str, list[str]] = {}
    for obj, crm_id in plans:
        by_object.setdefault(obj, []).append(crm_id)
    failed: dict[tuple[str, str], Any] = {}
    flying: set[tuple[str, str]] = set()
    unsettled: set[tuple[str, str]] = set()
    now = utcnow()
    landing = and_(OutboxItem.status == "sending", OutboxItem.next_attempt_at > now)
    for obj, ids in by_object.items():
        for row in session.execute(select(
                OutboxItem.crm_id, OutboxItem.attempts, OutboxItem.next_attempt_at,
                OutboxItem.status, OutboxItem.values, OutboxItem.last_error_code,
                OutboxItem.last_error_message, landing.label("landing")).where(
                OutboxItem.connection_id == connection_id, OutboxItem.object == obj,
                one_of(session, OutboxItem.crm_id, ids), OutboxItem.status.in_(OPEN),
                or_(OutboxItem.attempts > 0, OutboxItem.status == "sending"))):
            key = (obj, row.crm_id)
            if row.landing:
                flying.add(key)
                continue
            if row.status == "sending":
                unsettled.add(key)
            if row.attempts > 0:
                failed[key] = row
        session.execute(delete(OutboxItem).where(
            OutboxItem.connection_id == connection_id, OutboxItem.object == obj,
            one_of(session, OutboxItem.crm_id, ids), OutboxItem.status.in_(OPEN), not_(landing))
            .execution_options(synchronize_session=False))
    rows = []
    for key, values in plans.items():
        if not values or key in flying:
            continue
        encoded = values_to_json(values)
        row = {"connection_id": connection_id, "object": key[0], "crm_id": key[1],
               "values": encoded, "status": "pending", "attempts": 0, "next_attempt_at": now,
               "last_error_code": None, "last_error_message": None, "run_id": run_id,
               "created_at": now, "updated_at": now}
        before = failed.get(key)
        if before is not None:
            row.update(attempts=before.attempts, next_attempt_at=max(now, before.next_attempt_at),
                       last_error_code=before.last_error_code,
                       last_error_message=before.last_error_message,
                       status="parked" if (before.status == "parked"
                                           and before.values == encoded) else "pending")
        if key in unsettled:
            row.update(status="sending", next_attempt_at=now)
        rows.append(row)
    insert_rows(session, OutboxItem, rows)


def _due(connection_id: int, now: datetime, objects: Collection[str] | None) -> list[Any]:
    """Conditions of a connection's pending items due at ``now`` (of ``objects`` kinds, if given)."""
    due = [OutboxItem.connection_id == connection_id, OutboxItem.status == "pending",
           OutboxItem.next_attempt_at <= now]
    return due if objects is None else [*due, OutboxItem.object.in_(sorted(objects))]


def count_due(session: Session, connection_id: int, now: datetime,
              objects: Collection[str] | None = None) -> int:
    """How many pending items are due at ``now`` (of ``objects`` kinds, if given)."""
    return session.execute(select(func.count()).select_from(OutboxItem)
                           .where(*_due(connection_id, now, objects))).scalar()


def claim_due(session: Session, connection_id: int, limit: int, now: datetime | None = None,
              objects: Collection[str] | None = None, *,
              in_flight_seconds: float = 0.0) -> list[OutboxItem]:
    """Mark up to ``limit`` due pending items (of ``objects`` kinds, if given) as ``sending`` and
    return them (committed first). ``now`` picks what is due; a claimed item's
    ``next_attempt_at`` becomes the moment, ``in_flight_seconds`` from the real clock, before
    which no one else may settle it (its holder pushes it later while alive)."""
    now = now or utcnow()
    items = list(session.exec(select(OutboxItem).where(*_due(connection_id, now, objects))
                              .order_by(OutboxItem.id).limit(limit)))
    if items:
        # One UPDATE for the claim rather than one a row; the loaded items are told what it wrote.
        claimed = utcnow()
        landed_by = claimed + timedelta(seconds=in_flight_seconds)
        session.execute(update(OutboxItem).where(one_of(session, OutboxItem.id, [i.id for i in items]))
                        .values(status="sending", updated_at=claimed, next_attempt_at=landed_by)
                        .execution_options(synchronize_session=False))
        for item in items:
            set_committed_value(item, "status", "sending")
            set_committed_value(item, "updated_at", claimed)
            set_committed_value(item, "next_attempt_at", landed_by)
    session.commit()
    return items


def in_flight(session: Session, connection_id: int, now: datetime | None = None
              ) -> list[OutboxItem]:
    """Items handed to the CRM whose outcome no one recorded and whose time in flight is over at
    ``now``: their process died or lost its lease, and no batch carrying them can still land."""
    return list(session.exec(select(OutboxItem).where(
        OutboxItem.connection_id == connection_id, OutboxItem.status == "sending",
        OutboxItem.next_attempt_at <= (now or utcnow())).order_by(OutboxItem.id)))


def item_values(item: OutboxItem) -> dict[str, Any]:
    """An item's planned values with datetimes restored."""
    return values_from_json(item.values)


def mark_done(session: Session, items: Iterable[OutboxItem]) -> None:
    """The CRM confirmed these: remove them."""
    ids = [i.id for i in items]
    if ids:
        session.execute(delete(OutboxItem).where(one_of(session, OutboxItem.id, ids))
                        .execution_options(synchronize_session=False))


def mark_failed(session: Session, item: OutboxItem, *, code: str, message: str,
                max_attempts: int, backoff_seconds: float, now: datetime | None = None,
                final: bool = False) -> str:
    """Record a failure; retry later with exponential backoff and jitter, or park (at once when
    ``final``: the CRM refused the record as it is, and only an admin's retry may help).
    Returns the status."""
    now = now or utcnow()
    item.attempts += 1
    item.last_error_code = code
    item.last_error_message = message[:2000]
    if final or item.attempts >= max_attempts:
        item.status = "parked"
    else:
        delay = backoff_seconds * (2 ** max(item.attempts - 1, 0))
        item.status = "pending"
        item.next_attempt_at = now + timedelta(seconds=delay * random.uniform(0.8, 1.2))
    item.updated_at = now
    session.add(item)
    return item.status


def release(session: Session, items: Sequence[OutboxItem]) -> None:
    """Put claimed items back to pending, due now (the CRM refused the call as a whole)."""
    now = utcnow()
    for item in items:
        item.status, item.next_attempt_at = "pending", now
        session.add(item)


def list_items(session: Session, connection_id: int, status: str | None = None,
               limit: int = 200) -> list[OutboxItem]:
    """Open items of a connection, optionally of one status, oldest first."""
    query = select(OutboxItem).where(OutboxItem.connection_id == connection_id)
    query = query.where(OutboxItem.status == status) if status else query.where(
        OutboxItem.status.in_(OPEN))
    return list(session.exec(query.order_by(OutboxItem.id).limit(limit)))


def counts(session: Session, connection_id: int) -> dict[str, int]:
    """Open items by status."""
    rows = session.exec(select(OutboxItem.status, func.count()).where(
        OutboxItem.connection_id == connection_id).group_by(OutboxItem.status))
    return {status: n for status, n in rows}


def retry_parked(session: Session, connection_id: int, ids: Sequence[int] | None = None,
                 now: datetime | None = None) -> int:
    """Give parked items a fresh set of attempts, due now. Returns how many."""
    query = (update(OutboxItem)
             .where(OutboxItem.connection_id == connection_id, OutboxItem.status == "parked")
             .values(status="pending", attempts=0, next_attempt_at=now or utcnow()))
    if ids is not None:
        query = query.where(OutboxItem.id.in_(list(ids)))
    return session.execute(query).rowcount
