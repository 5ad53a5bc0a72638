"""The journey rollup (:class:`~integration.store.models.JourneyRollup`) kept up to date with the
journey events, in the transaction that writes them.

Records' events are replaced whole (:func:`integration.store.records.replace_events`): their stays
are counted out of the rollup before the old events go (:func:`count_out`) and the new ones counted
in after they are written (:func:`count_in`), each one grouped ``INSERT ... SELECT ... ON CONFLICT``
adding to the counts, so the rollup always equals what :func:`rebuild` would count from scratch.
Both read the events with the same statement (:func:`_stays`), the one the migration's backfill
and the benchmark's seed run over a whole connection.
"""
from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import and_, case, delete, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased

from integration.store.bulk import one_of
from integration.store.models import JourneyEvent, JourneyRollup
from integration.store.sqlfuncs import calendar_days, utc_date

E = JourneyEvent
#: The next stay of the same record (events are numbered 0, 1, 2... per record).
NEXT = aliased(JourneyEvent, name="next_event")
_INSERTS = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}
#: The rollup's key columns, in the order :func:`_stays` selects them.
KEY = ("connection_id", "day", "object", "stage", "next_stage", "days")
#: ``days`` of a stay still open: counted at read time from the day it began.
OPEN = -1


def _stays(sign: int, *conditions: Any) -> Any:
    """The stays of the events matching ``conditions`` grouped by the rollup's key, with their
    count times ``sign`` (1 counts them in, -1 out)."""
    day = utc_date(E.occurred_at)
    days = case((E.exited_at.is_(None), literal_column(str(OPEN))),
                else_=calendar_days(day, utc_date(E.exited_at)))
    # positional GROUP BY: PostgreSQL would not match the expressions' bound parameters
    return select(E.connection_id, day, E.object, E.to_stage, func.coalesce(NEXT.to_stage, literal_column("''")),
                  days, func.count() * sign).select_from(E).outerjoin(
        NEXT, and_(NEXT.connection_id == E.connection_id, NEXT.object == E.object,
                   NEXT.crm_id == E.crm_id, NEXT.seq == E.seq + 1)).where(*conditions) \
        .group_by(*(literal_column(str(i)) for i in range(1, len(KEY) + 1)))


def _add(conn: Any, stays: Any) -> None:
    """Add the counts of ``stays`` (a :func:`_stays` select) to the rollup."""
    dialect = conn.dialect if hasattr(conn, "dialect") else conn.get_bind().dialect  # Connection, Session
    insert = _INSERTS[dialect.name]
    statement = insert(JourneyRollup).from_select([*KEY, "n"], stays)
    conn.execute(statement.on_conflict_do_update(
        index_elements=list(KEY), set_={"n": JourneyRollup.__table__.c.n + statement.excluded.n}))


def count_out(session: Any, connection_id: int, obj: str, ids: Sequence[str]) -> None:
    """Take the stays of these records' stored events out of the rollup (before they are deleted)."""
    _add(session, _stays(-1, E.connection_id == connection_id, E.object == obj,
                         one_of(session, E.crm_id, ids)))


def count_in(session: Any, connection_id: int, obj: str, ids: Sequence[str]) -> None:
    """Add the stays of these records' stored events to the rollup (after they are written), and
    drop the rows whose count is now 0 (a stay that ended leaves its open row empty)."""
    _add(session, _stays(1, E.connection_id == connection_id, E.object == obj,
                         one_of(session, E.crm_id, ids)))
    session.execute(delete(JourneyRollup).where(JourneyRollup.connection_id == connection_id,
                                                JourneyRollup.n == 0))


def rebuild(conn: Any, connection_id: int | None = None) -> None:
    """Count one connection's stays (every connection's without ``connection_id``) afresh, in
    set-based SQL: the backfill of the migration and of events written in bulk (the benchmark)."""
    only = [] if connection_id is None else [JourneyRollup.connection_id == connection_id]
    conn.execute(delete(JourneyRollup).where(*only))
    _add(conn, _stays(1, *([] if connection_id is None else [E.connection_id == connection_id])))
