"""The journey rollup kept up to date with the journey events, in the transaction that writes them:
:class:`~integration.store.models.JourneyRollup` over all of a connection's records, and
:class:`~integration.store.models.JourneyRollupByValue` per value of each filter column
(:data:`~integration.store.models.RECORD_DIMENSIONS`: the records of one owner, one country...).

Each kind of row counts stays (one per stage a record entered) by a *grain* (the UTC day, the
ISO week's Monday or the month's first day the stay began), object and stage, and by what else it
says of the stays (:data:`KIND_OF`):

- :data:`MOVES` (by day), :data:`MOVES_BY_MONTH`: all stays by the stage entered next (``""`` while the record is still in
  it): outcomes, skipped and repeated stages, trends' conversion;
- :data:`CLOSED_BY_DAY`, :data:`CLOSED_BY_WEEK`, :data:`CLOSED_BY_MONTH`: the stays that ended,
  by the calendar days they lasted: time-in-stage histograms, read by month or week where a
  period covers whole ones and by day at its edges (a month row stands for ~30 day rows);
- :data:`OPEN_BY_DAY`: the stays still going: their days grow each day, so they are counted at
  read time from the day.

The per-value table keeps :data:`MOVES_BY_MONTH`, :data:`CLOSED_BY_MONTH` and
:data:`OPEN_BY_DAY`: no day rows of moves or closed stays (there would be about one per stay and
value), so the days of a period outside whole months are read from the events. (A closed row by
next stage *and* days, one row a stay to upkeep instead of two, made the table a quarter larger
at 100,000 records, and more at a million: next stages multiply the days' values.)

Records' events are replaced whole (:func:`integration.store.records.replace_events`): the stays
of the events it deleted (handed back by the DELETE, with the filter values they were counted
under) count -1, those of the rows it inserted +1, tallied here in Python (:func:`tally`, the same
arithmetic as :func:`_stays`' SQL) and added to the rollup by one ``INSERT ... ON CONFLICT``
executemany per table (:func:`add`): no re-read of what was just written, and nothing subtracted
on a first sync. :func:`rebuild` counts from scratch in set-based SQL (the migrations' backfill
and the benchmark's seed); the property test holds the two equal.
"""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import and_, delete, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased

from integration.store.models import (RECORD_DIMENSIONS, JourneyEvent, JourneyRollup,
                                      JourneyRollupByValue)
from integration.store.sqlfuncs import calendar_days, month_day, utc_date, week_day

E = JourneyEvent
#: The next stay of the same record (events are numbered 0, 1, 2... per record).
NEXT = aliased(JourneyEvent, name="next_event")
_INSERTS = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}
#: The kinds of rows (see the module docstring).
MOVES, CLOSED_BY_DAY, CLOSED_BY_MONTH, OPEN_BY_DAY, CLOSED_BY_WEEK, MOVES_BY_MONTH = range(6)
#: Per kind: its grain, which stays it counts ("all", "closed": those that ended, "open": those
#: still going), and whether by next stage and by days lasted.
KIND_OF = {MOVES: ("day", "all", True, False), CLOSED_BY_DAY: ("day", "closed", False, True),
           CLOSED_BY_MONTH: ("month", "closed", False, True), OPEN_BY_DAY: ("day", "open", False, False),
           CLOSED_BY_WEEK: ("week", "closed", False, True), MOVES_BY_MONTH: ("month", "all", True, False)}
#: The kinds each table keeps.
KINDS = {JourneyRollup: (MOVES, CLOSED_BY_DAY, CLOSED_BY_MONTH, OPEN_BY_DAY, CLOSED_BY_WEEK),
         JourneyRollupByValue: (MOVES_BY_MONTH, CLOSED_BY_MONTH, OPEN_BY_DAY)}
#: The first day of a grain's unit holding a date, in Python and in SQL (of a stored date and time).
GRAINS: dict[str, Callable[[date], date]] = {
    "day": lambda day: day, "week": lambda day: day - timedelta(days=day.weekday()),
    "month": lambda day: day.replace(day=1)}
SQL_GRAINS = {"day": utc_date, "week": week_day, "month": month_day}
#: Each table's key columns, in the order :func:`_stays` selects them.
KEY = ("connection_id", "kind", "day", "object", "stage", "next_stage", "days")
KEYS = {JourneyRollup: KEY, JourneyRollupByValue: ("connection_id", "dimension", "value", *KEY[1:])}


def _stays(kind: int, sign: int, dimension: str | None, *conditions: Any) -> Any:
    """The stays of the events matching ``conditions`` as rows of ``kind`` (per value of the
    event's ``dimension`` column, when given), grouped by the table's key, with their count
    times ``sign`` (1 counts them in, -1 out)."""
    grain, which, by_next, by_days = KIND_OF[kind]
    after = func.coalesce(NEXT.to_stage, literal_column("''")) if by_next else literal_column("''")
    days = calendar_days(utc_date(E.occurred_at), utc_date(E.exited_at)) if by_days \
        else literal_column("0")
    ended = {"all": [], "open": [E.exited_at.is_(None)], "closed": [E.exited_at.is_not(None)]}[which]
    by_value = [] if dimension is None else [literal(dimension), getattr(E, dimension)]
    query = select(E.connection_id, *by_value, literal_column(str(kind)),
                   SQL_GRAINS[grain](E.occurred_at), E.object, E.to_stage, after, days,
                   func.count() * sign).select_from(E)
    if by_next:
        query = query.outerjoin(NEXT, and_(NEXT.connection_id == E.connection_id, NEXT.object == E.object,
                                           NEXT.crm_id == E.crm_id, NEXT.seq == E.seq + 1))
    if dimension is not None:
        ended.append(getattr(E, dimension).is_not(None))
    # positional GROUP BY: PostgreSQL would not match the expressions' bound parameters
    width = len(KEY) + len(by_value)
    return query.where(*conditions, *ended).group_by(*(literal_column(str(i)) for i in range(1, width + 1)))


def _add(conn: Any, sign: int, kinds: Mapping[Any, Iterable[int]], *conditions: Any) -> None:
    """Add the stays of the events matching ``conditions``, times ``sign``, to the rows of
    ``kinds`` (by table)."""
    dialect = conn.dialect if hasattr(conn, "dialect") else conn.get_bind().dialect  # Connection, Session
    for table, of_table in kinds.items():
        for dimension in ([None] if table is JourneyRollup else RECORD_DIMENSIONS):
            for kind in of_table:
                statement = _INSERTS[dialect.name](table).from_select(
                    [*KEYS[table], "n"], _stays(kind, sign, dimension, *conditions))
                conn.execute(statement.on_conflict_do_update(
                    index_elements=list(KEYS[table]),
                    set_={"n": table.__table__.c.n + statement.excluded.n}))


#: The event columns :func:`tally` reads (what the DELETE of replaced events hands back).
STAY_COLUMNS = (E.object, E.crm_id, E.seq, E.to_stage, E.occurred_at, E.exited_at,
                *(getattr(E, name) for name in RECORD_DIMENSIONS))


def _utc_day(moment: datetime) -> date:
    """The UTC calendar date of an aware date and time (what ``utc_date`` gives in SQL)."""
    return moment.astimezone(timezone.utc).date()


#: Per table, its kinds with what :data:`KIND_OF` says of each: :func:`tally`'s plan.
_PLANS = {table: tuple((kind, *KIND_OF[kind]) for kind in kinds) for table, kinds in KINDS.items()}


def _rows_of_stay(table: Any, units: Mapping[str, date], after: str, lasted: int | None
                  ) -> list[tuple[int, date, str, int]]:
    """(kind, day, next stage, days) of each row of ``table`` counting a stay begun on the days
    ``units`` (by grain), followed by ``after`` and lasting ``lasted`` days (None while open)."""
    which = "open" if lasted is None else "closed"
    return [(kind, units[grain], after if by_next else "", (lasted or 0) if by_days else 0)
            for kind, grain, counts, by_next, by_days in _PLANS[table] if counts in ("all", which)]


def tally(counts: Counter, connection_id: int, events: Iterable[Mapping[str, Any]], sign: int) -> None:
    """Add the stays of ``events`` (whole journeys: every event of each record, with the
    :data:`STAY_COLUMNS`), times ``sign``, to ``counts`` by (table, key): :func:`_stays` in Python."""
    events = list(events)
    to_stage = {(ev["object"], ev["crm_id"], ev["seq"]): ev["to_stage"] for ev in events}
    for ev in events:
        obj, stage, day = ev["object"], ev["to_stage"], _utc_day(ev["occurred_at"])
        after = to_stage.get((obj, ev["crm_id"], ev["seq"] + 1), "")
        lasted = None if ev["exited_at"] is None else max(0, (_utc_day(ev["exited_at"]) - day).days)
        units = {grain: start(day) for grain, start in GRAINS.items()}
        for kind, at, following, days in _rows_of_stay(JourneyRollup, units, after, lasted):
            counts[(JourneyRollup, (connection_id, kind, at, obj, stage, following, days))] += sign
        values = [(name, ev[name]) for name in RECORD_DIMENSIONS if ev.get(name) is not None]
        if values:
            for kind, at, following, days in _rows_of_stay(JourneyRollupByValue, units, after, lasted):
                for name, value in values:
                    counts[(JourneyRollupByValue,
                            (connection_id, name, value, kind, at, obj, stage, following, days))] += sign


@lru_cache(maxsize=None)
def _upsert_sql(table: Any, dialect: str) -> str:
    """``INSERT ... ON CONFLICT (key) DO UPDATE SET n = n + excluded.n`` of ``table`` in the
    driver's SQL: on PostgreSQL the rows as one array a column (``%(c0)s``...) unnested, one
    statement for them all (an executemany is a round trip a row); on SQLite by position."""
    columns = [*KEYS[table], "n"]
    name = table.__tablename__
    on_conflict = (f"ON CONFLICT ({', '.join(KEYS[table])}) "
                   f"DO UPDATE SET n = {name}.n + excluded.n")
    if dialect == "postgresql":
        types = {"day": "date", "connection_id": "integer", "kind": "integer", "days": "integer",
                 "n": "integer"}
        arrays = ", ".join(f"%(c{i})s::{types.get(column, 'text')}[]" for i, column in enumerate(columns))
        return f"INSERT INTO {name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) {on_conflict}"
    return (f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"{on_conflict}")


def add(session: Any, connection_id: int, counts: Counter) -> None:
    """Add ``counts`` (from :func:`tally`) to the connection's rollup tables, then drop the rows
    whose count fell to 0 (a stay that ended leaves its open row empty) if any count went down."""
    connection = session.connection()
    dialect = connection.dialect.name
    for table, key in KEYS.items():
        # sorted: two transactions upserting the same keys take their row locks in the same order
        rows = sorted((*values, n) for (of, values), n in counts.items() if of is table and n)
        if not rows:
            continue
        # plain values straight to the driver: SQLAlchemy's processing of each row's parameters
        # took most of the upkeep's time (thousands of rows a page: one a stay and filter value)
        if dialect == "postgresql":
            params: Any = {f"c{i}": list(column) for i, column in enumerate(zip(*rows))}
        else:  # the day as the ISO text SQLAlchemy's Date stores
            at = key.index("day")
            params = [(*row[:at], row[at].isoformat(), *row[at + 1:]) for row in rows]
        connection.exec_driver_sql(_upsert_sql(table, dialect), params)
        if any(row[-1] < 0 for row in rows):
            session.execute(delete(table).where(table.connection_id == connection_id, table.n == 0))


def rebuild(conn: Any, connection_id: int | None = None,
            kinds: Mapping[Any, Iterable[int]] = KINDS) -> None:
    """Count the rows of ``kinds`` (by table; all by default) of one connection (every
    connection's without ``connection_id``) afresh, in set-based SQL: the backfill of the
    migrations (each names the kinds it brings) and of events written in bulk (the benchmark)."""
    kinds = {table: tuple(of_table) for table, of_table in kinds.items()}
    for table, of_table in kinds.items():
        conn.execute(delete(table).where(table.kind.in_(of_table), *(
            [] if connection_id is None else [table.connection_id == connection_id])))
    _add(conn, 1, kinds, *([] if connection_id is None else [E.connection_id == connection_id]))
