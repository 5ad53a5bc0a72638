"""The journey summary (:class:`~integration.store.models.JourneySummary`): one row per record
with a journey, kept with its journey events in the transaction that writes them.

Records' events are replaced whole (:func:`integration.store.records.replace_events`): their
summary rows go (:func:`forget`) and rows made from the events in hand come in (:func:`add`), with
no re-read of what was just written. :func:`rebuild` makes the rows from the stored events in
set-based SQL (the migration's backfill, the benchmark's seed); the property test holds the two
equal.
"""
from __future__ import annotations

from datetime import timezone
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import and_, case, delete, func, insert, select

from integration.store.bulk import insert_rows, one_of
from integration.store.models import JourneyEvent, JourneySummary
from integration.store.sqlfuncs import month_start, ordered_concat

E, S = JourneyEvent, JourneySummary
#: Entry times a summary holds: a record with more entries is read from its events.
SLOTS = 12
#: The entry-time columns, in the order of the entries.
ENTRY_TIMES = tuple(getattr(S, f"at{slot}") for slot in range(SLOTS))
#: What joins a record's stages in ``path``.
SEPARATOR = ">"


def summary_row(connection_id: int, obj: str, crm_id: str,
                events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The summary row of one record's journey (its events in order, at least one)."""
    times = [ev["occurred_at"] for ev in events]
    first = min(times)
    return {"connection_id": connection_id, "object": obj, "crm_id": crm_id, "events": len(events),
            "path": SEPARATOR.join(ev["to_stage"] for ev in events),
            "first_stage": events[0]["to_stage"], "first_at": first,
            "first_month": first.astimezone(timezone.utc).strftime("%Y-%m-01"), "last_at": max(times),
            "covered": len(times) <= SLOTS and all(a < b for a, b in zip(times, times[1:])),
            **{column.key: times[slot] if slot < len(times) else None
               for slot, column in enumerate(ENTRY_TIMES)}}


def forget(session: Any, connection_id: int, obj: str, crm_ids: Sequence[str],
           returning: Sequence[Any]) -> Iterable[Mapping[str, Any]]:
    """Remove the summaries of these records of one object kind; hands back the ``returning``
    columns of the rows removed."""
    return session.execute(delete(S).where(S.connection_id == connection_id, S.object == obj,
                                           one_of(session, S.crm_id, crm_ids))
                           .returning(*returning).execution_options(synchronize_session=False)).mappings()


def add(session: Any, connection_id: int,
        journeys: Mapping[tuple[str, str], Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Store the summaries of these journeys (records without events have none); hands back
    the rows stored."""
    rows = [summary_row(connection_id, obj, crm_id, events)
            for (obj, crm_id), events in journeys.items() if events]
    insert_rows(session, S, rows)
    return rows


def _rows_from_events(conditions: Iterable[Any]) -> Any:
    """SELECT the summary rows of the events matching ``conditions``, one per record, columns in
    the table's order."""
    earlier = func.lag(E.occurred_at).over(partition_by=(E.connection_id, E.object, E.crm_id),
                                           order_by=E.seq)
    # sorted by seq: SQLite's group_concat joins the rows in the order it is fed them
    ordered = select(E.connection_id, E.object, E.crm_id, E.seq, E.to_stage, E.occurred_at,
                     earlier.label("earlier")).where(*conditions) \
        .order_by(E.connection_id, E.object, E.crm_id, E.seq).subquery()
    o = ordered.c
    in_order = func.min(case((o.earlier.is_(None), 1), (o.earlier < o.occurred_at, 1), else_=0))
    columns = {"connection_id": o.connection_id, "object": o.object, "crm_id": o.crm_id,
               "events": func.count(), "path": ordered_concat(o.to_stage, o.seq),
               "first_stage": func.max(case((o.seq == 0, o.to_stage))),
               "first_at": func.min(o.occurred_at), "first_month": month_start(func.min(o.occurred_at)),
               "last_at": func.max(o.occurred_at),
               "covered": and_(func.count() <= SLOTS, in_order == 1),
               **{column.key: func.max(case((o.seq == slot, o.occurred_at)))
                  for slot, column in enumerate(ENTRY_TIMES)}}
    return select(*(columns[c.key].label(c.key) for c in S.__table__.columns)) \
        .group_by(o.connection_id, o.object, o.crm_id)


def rebuild(conn: Any, connection_id: int | None = None) -> None:
    """Make one connection's summaries (every connection's without ``connection_id``) afresh
    from the stored events, in set-based SQL: the backfill of the migration and of events
    written in bulk (the benchmark)."""
    only = [] if connection_id is None else [S.connection_id == connection_id]
    conn.execute(delete(S).where(*only))
    conn.execute(insert(S).from_select([c.key for c in S.__table__.columns], _rows_from_events(
        [] if connection_id is None else [E.connection_id == connection_id])))
