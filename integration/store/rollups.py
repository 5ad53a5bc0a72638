"""The journey rollup (:class:`~integration.store.models.JourneyRollup`) kept up to date with the
journey events, in the transaction that writes them.

Four kinds of rows count the stays (one per stage a record entered):

- :data:`MOVES` by the UTC day a stay began, its object, stage and the stage entered next (``""``
  while the record is still in it): outcomes, skipped and repeated stages, trends' conversion;
- :data:`CLOSED_BY_DAY` and :data:`CLOSED_BY_MONTH`, the stays that ended, by the day or the month
  they began, object, stage and calendar days they lasted: time-in-stage histograms, read by month
  where a period covers whole months and by day at its edges (a month row stands for ~30 day rows);
- :data:`OPEN_BY_DAY`, the stays still going, by day, object and stage: their days grow each day,
  so they are counted at read time from the day.

Records' events are replaced whole (:func:`integration.store.records.replace_events`): the stays
of the events it deleted (handed back by the DELETE) count -1, those of the rows it inserted +1,
tallied here in Python (:func:`tally`, the same arithmetic as :func:`_stays`' SQL) and added to the
rollup by one ``INSERT ... ON CONFLICT`` executemany (:func:`add`): no re-read of what was just
written, and nothing subtracted on a first sync. :func:`rebuild` counts from scratch in set-based SQL (the
migration's backfill and the benchmark's seed); the property test holds the two equal.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timezone
from typing import Any, Iterable, Mapping

from sqlalchemy import and_, delete, func, literal_column, select
from sqlalchemy.orm import aliased

from integration.store.bulk import INSERTS
from integration.store.models import JourneyEvent, JourneyRollup
from integration.store.sqlfuncs import calendar_days, month_day, utc_date

E = JourneyEvent
#: The next stay of the same record (events are numbered 0, 1, 2... per record). Joined rather
#: than read from ``next_stage``: migration 0020 builds the rollup with this code, before events
#: had that column (0028).
NEXT = aliased(JourneyEvent, name="next_event")
#: The rollup's key columns, in the order :func:`_stays` selects them.
KEY = ("connection_id", "kind", "day", "object", "stage", "next_stage", "days")
#: The kinds of rows (see the module docstring).
MOVES, CLOSED_BY_DAY, CLOSED_BY_MONTH, OPEN_BY_DAY = 0, 1, 2, 3
KINDS = (MOVES, CLOSED_BY_DAY, CLOSED_BY_MONTH, OPEN_BY_DAY)


def _stays(kind: int, sign: int, *conditions: Any) -> Any:
    """The stays of the events matching ``conditions`` as rows of ``kind``, grouped by the
    rollup's key, with their count times ``sign`` (1 counts them in, -1 out)."""
    day, none = utc_date(E.occurred_at), literal_column("''")
    lasted = calendar_days(day, utc_date(E.exited_at))
    columns = {MOVES: (day, func.coalesce(NEXT.to_stage, none), literal_column("0")),
               CLOSED_BY_DAY: (day, none, lasted),
               CLOSED_BY_MONTH: (month_day(E.occurred_at), none, lasted),
               OPEN_BY_DAY: (day, none, literal_column("0"))}[kind]
    ended = {MOVES: [], OPEN_BY_DAY: [E.exited_at.is_(None)]}.get(kind, [E.exited_at.is_not(None)])
    query = select(E.connection_id, literal_column(str(kind)), columns[0], E.object, E.to_stage,
                   *columns[1:], func.count() * sign).select_from(E)
    if kind == MOVES:
        query = query.outerjoin(NEXT, and_(NEXT.connection_id == E.connection_id, NEXT.object == E.object,
                                           NEXT.crm_id == E.crm_id, NEXT.seq == E.seq + 1))
    # positional GROUP BY: PostgreSQL would not match the expressions' bound parameters
    return query.where(*conditions, *ended).group_by(
        *(literal_column(str(i)) for i in range(1, len(KEY) + 1)))


def _add(conn: Any, sign: int, *conditions: Any) -> None:
    """Add the stays of the events matching ``conditions``, times ``sign``, to the rollup."""
    dialect = conn.dialect if hasattr(conn, "dialect") else conn.get_bind().dialect  # Connection, Session
    for kind in KINDS:
        statement = INSERTS[dialect.name](JourneyRollup).from_select(
            [*KEY, "n"], _stays(kind, sign, *conditions))
        conn.execute(statement.on_conflict_do_update(
            index_elements=list(KEY), set_={"n": JourneyRollup.__table__.c.n + statement.excluded.n}))


#: The event columns :func:`tally` reads (what the DELETE of replaced events hands back).
STAY_COLUMNS = (E.object, E.to_stage, E.occurred_at, E.exited_at, E.next_stage)


def _utc_day(moment: datetime) -> date:
    """The UTC calendar date of an aware date and time (what ``utc_date`` gives in SQL)."""
    return moment.astimezone(timezone.utc).date()


def tally(counts: Counter, connection_id: int, events: Iterable[Mapping[str, Any]], sign: int) -> None:
    """Add the stays of ``events`` (with the :data:`STAY_COLUMNS`), times ``sign``, to ``counts``
    by rollup key: :func:`_stays` in Python."""
    for ev in events:
        obj, stage, day = ev["object"], ev["to_stage"], _utc_day(ev["occurred_at"])
        counts[(connection_id, MOVES, day, obj, stage, ev["next_stage"] or "", 0)] += sign
        if ev["exited_at"] is None:
            counts[(connection_id, OPEN_BY_DAY, day, obj, stage, "", 0)] += sign
        else:
            lasted = max(0, (_utc_day(ev["exited_at"]) - day).days)
            counts[(connection_id, CLOSED_BY_DAY, day, obj, stage, "", lasted)] += sign
            counts[(connection_id, CLOSED_BY_MONTH, day.replace(day=1), obj, stage, "", lasted)] += sign


def add(session: Any, connection_id: int, counts: Counter) -> None:
    """Add ``counts`` (from :func:`tally`) to the connection's rollup, then drop the rows whose
    count fell to 0 (a stay that ended leaves its open row empty) if any count went down."""
    # sorted: two transactions upserting the same keys take their row locks in the same order
    rows = [dict(zip(KEY, key), n=n) for key, n in sorted(counts.items()) if n]
    if not rows:
        return
    # Core, executemany: the ORM's bulk INSERT would spend ~0.5 s of Python per page on the rows
    table = JourneyRollup.__table__
    statement = INSERTS[session.get_bind().dialect.name](table)
    session.execute(statement.on_conflict_do_update(
        index_elements=list(KEY), set_={"n": table.c.n + statement.excluded.n}), rows)
    if any(row["n"] < 0 for row in rows):
        session.execute(delete(JourneyRollup).where(JourneyRollup.connection_id == connection_id,
                                                    JourneyRollup.n == 0))


def rebuild(conn: Any, connection_id: int | None = None) -> None:
    """Count one connection's stays (every connection's without ``connection_id``) afresh, in
    set-based SQL: the backfill of the migration and of events written in bulk (the benchmark)."""
    only = [] if connection_id is None else [JourneyRollup.connection_id == connection_id]
    conn.execute(delete(JourneyRollup).where(*only))
    _add(conn, 1, *([] if connection_id is None else [E.connection_id == connection_id]))
