"""Record journey states, journey events, and the queue of records webhooks asked to re-sync."""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import delete, func
from sqlmodel import Session, select

from integration.store import rollups, summaries
from integration.store.bulk import INSERTS, insert_rows, one_of
from integration.store.models import JourneyEvent, PendingRecord, RecordState
from integration.store.types import utcnow


def get_state(session: Session, connection_id: int, object: str, crm_id: str) -> RecordState | None:
    """One record's stored state."""
    return session.exec(select(RecordState).where(
        RecordState.connection_id == connection_id, RecordState.object == object,
        RecordState.crm_id == crm_id)).first()


def states_by_key(session: Session, connection_id: int,
                  keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], RecordState]:
    """Stored states for (object, crm_id) keys, in one query per object kind."""
    found: dict[tuple[str, str], RecordState] = {}
    for obj, ids in _ids_by_object(keys).items():
        for row in session.exec(select(RecordState).where(
                RecordState.connection_id == connection_id, RecordState.object == obj,
                one_of(session, RecordState.crm_id, ids))):
            found[(obj, row.crm_id)] = row
    return found


def crm_values_by_key(session: Session, connection_id: int, keys: Sequence[tuple[str, str]]
                      ) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    """(row id, CRM values as stored) of the stored states of (object, crm_id) keys, one query
    per object kind: what a confirmed write-back updates, without loading the records."""
    found: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for obj, ids in _ids_by_object(keys).items():
        for row_id, crm_id, values in session.execute(select(
                RecordState.id, RecordState.crm_id, RecordState.crm_values).where(
                RecordState.connection_id == connection_id, RecordState.object == obj,
                one_of(session, RecordState.crm_id, ids))):
            found[(obj, crm_id)] = (row_id, values or {})
    return found


def _ids_by_object(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    by_object: dict[str, list[str]] = {}
    for obj, crm_id in keys:
        by_object.setdefault(obj, []).append(crm_id)
    return by_object


def iter_states(session: Session, connection_id: int, chunk: int = 1000) -> Iterator[RecordState]:
    """Every stored state of a connection, in id order, a chunk at a time."""
    last_id = 0
    while True:
        rows = list(session.exec(select(RecordState).where(
            RecordState.connection_id == connection_id, RecordState.id > last_id)
            .order_by(RecordState.id).limit(chunk)))
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def last_writes(session: Session, connection_id: int) -> tuple[int | None, datetime | None]:
    """The connection's newest journey event id and latest record-state write: every sync or
    stall pass that changes a record moves both (two index look-ups)."""
    last_event = session.execute(select(func.max(JourneyEvent.id)).where(
        JourneyEvent.connection_id == connection_id)).scalar()
    last_write = session.execute(select(func.max(RecordState.updated_at)).where(
        RecordState.connection_id == connection_id)).scalar()
    return last_event, last_write


def replace_events(session: Session, connection_id: int,
                   journeys: Mapping[tuple[str, str], Sequence[Mapping[str, Any]]],
                   segments: Mapping[tuple[str, str], tuple[rollups.Segments, rollups.Segments]]
                   | None = None) -> None:
    """Store records' journeys (one row per stage entered, in order; each event's next stage is
    the following one's), replacing what was there.

    One DELETE per object kind and one INSERT for the lot; the journey rollup follows in the same
    transaction: the stays of the deleted events (the DELETE returns them) out, the inserted ones
    in, and so the cohorts of the records' journey summaries, replaced whole; one upsert of their
    difference.
    ``segments`` gives each record's rollup segment values (``rollups.SEGMENTS``) before and after
    this write: its old stays leave the segments it was in, its new ones join those it is in now.
    Without them both are those of its stored state.
    """
    if segments is None:
        segments = {key: (rollups.stored_segments(row),) * 2
                    for key, row in states_by_key(session, connection_id, list(journeys)).items()}
    before = {key: pair[0] for key, pair in segments.items()}
    after = {key: pair[1] for key, pair in segments.items()}
    counts: Counter = Counter()
    for obj, ids in _ids_by_object(journeys).items():
        rollups.tally(counts, connection_id, session.execute(delete(JourneyEvent).where(
            JourneyEvent.connection_id == connection_id, JourneyEvent.object == obj,
            one_of(session, JourneyEvent.crm_id, ids)).returning(*rollups.STAY_COLUMNS)
            .execution_options(synchronize_session=False)).mappings(), -1, before)
        rollups.tally_cohorts(counts, connection_id, summaries.forget(
            session, connection_id, obj, ids, rollups.COHORT_COLUMNS), -1, before)
    rows = [{"connection_id": connection_id, "object": obj, "crm_id": crm_id, "seq": seq, **ev,
             "next_stage": events[seq + 1]["to_stage"] if seq + 1 < len(events) else None}
            for (obj, crm_id), events in journeys.items() for seq, ev in enumerate(events)]
    insert_rows(session, JourneyEvent, rows)
    rollups.tally(counts, connection_id, rows, 1, after)
    rollups.tally_cohorts(counts, connection_id, summaries.add(session, connection_id, journeys), 1, after)
    rollups.add(session, connection_id, counts)


def events_for(session: Session, connection_id: int, object: str, crm_id: str) -> list[JourneyEvent]:
    """A record's journey events in order."""
    return list(session.exec(select(JourneyEvent).where(
        JourneyEvent.connection_id == connection_id, JourneyEvent.object == object,
        JourneyEvent.crm_id == crm_id).order_by(JourneyEvent.seq)))


def queue_records(session: Session, connection_id: int, keys: Sequence[tuple[str, str]],
                  now: datetime | None = None) -> int:
    """Ask for a targeted sync of these records; a record already queued is queued once.

    One ``INSERT ... ON CONFLICT DO NOTHING``: two deliveries naming the same record at the same
    moment both succeed (a read-then-insert would let the second hit the unique key). Returns how
    many records were newly queued.
    """
    rows = [{"connection_id": connection_id, "object": obj, "crm_id": crm_id,
             "requested_at": now or utcnow()} for obj, crm_id in dict.fromkeys(keys)]
    if not rows:
        return 0
    insert = INSERTS[session.get_bind().dialect.name]
    statement = insert(PendingRecord).values(rows).on_conflict_do_nothing().returning(PendingRecord.id)
    return len(session.execute(statement).all())


def take_queued(session: Session, connection_id: int, limit: int = 1000) -> list[PendingRecord]:
    """Queued records, oldest first (removed by :func:`drop_queued` once synced)."""
    return list(session.exec(select(PendingRecord).where(PendingRecord.connection_id == connection_id)
                             .order_by(PendingRecord.id).limit(limit)))


def drop_queued(session: Session, rows: Sequence[PendingRecord]) -> None:
    """Forget queued records that were synced."""
    ids = [r.id for r in rows]
    if ids:
        session.exec(delete(PendingRecord).where(PendingRecord.id.in_(ids)))
