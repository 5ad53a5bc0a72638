"""The journey rollup (:class:`~integration.store.models.JourneyRollup`) kept up to date with the
journey events, in the transaction that writes them.

Each stay is counted once for the whole connection (segment and value ``""``) and once in each
:data:`SEGMENTS` value its record holds (its persona, country, lead source, pipeline; none for a
value the record lacks), so a view filtered by one of them reads its own rows. Four kinds of rows
count the stays (one per stage a record entered):

- :data:`MOVES` by the UTC day a stay began, its object, stage and the stage entered next (``""``
  while the record is still in it): outcomes, skipped and repeated stages, trends' conversion;
- :data:`CLOSED_BY_DAY` and :data:`CLOSED_BY_MONTH`, the stays that ended, by the day or the month
  they began, object, stage and calendar days they lasted: time-in-stage histograms, read by month
  where a period covers whole months and by day at its edges (a month row stands for ~30 day rows);
- :data:`OPEN_BY_DAY`, the stays still going, by day, object and stage: their days grow each day,
  so they are counted at read time from the day.

One more kind counts records, not stays: :data:`COHORTS`, each record with a journey by the UTC
day of its first entry, its object, the stage it entered first (``""`` when its journey summary
does not cover it: its entries are not strictly ordered, so the events tell) and in
``next_stage`` every stage it ever entered (:func:`reached`, sorted: a set, which any version of
the map reads). A map's cohort of a record beginning in one of its stages is that day's month,
and its furthest stage the last of the map's stages in the set.

Records' events are replaced whole (:func:`integration.store.records.replace_events`): the stays
of the events it deleted (handed back by the DELETE) count -1, those of the rows it inserted +1,
tallied here in Python (:func:`tally`, the same arithmetic as :func:`_stays`' SQL) and added to the
rollup by one ``INSERT ... ON CONFLICT`` executemany (:func:`add`): no re-read of what was just
written, and nothing subtracted on a first sync. Cohort rows are tallied the same way from the
journey summaries the write replaces (:func:`tally_cohorts`). The deleted stays count out of the segments the
record was in, the inserted ones into those it is in now: a record that moved to another country
moves its stays with it. :func:`rebuild` counts from scratch (the migrations' backfill and the
benchmark's seed): the stays in set-based SQL, the cohorts from the stored summaries with
:func:`tally_cohorts` (a path's set of stages has no portable SQL); the property test holds the
two ways equal.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timezone
from typing import Any, Iterable, Mapping

from sqlalchemy import delete, func, literal_column, select

from integration.store.bulk import INSERTS
from integration.store.models import JourneyEvent, JourneyRollup, JourneySummary, RecordState, same_record
from integration.store.sqlfuncs import calendar_days, month_day, utc_date
from integration.store.summaries import SEPARATOR

E, S = JourneyEvent, JourneySummary
#: The rollup's key columns, in the order :func:`_stays` selects them.
KEY = ("connection_id", "segment", "value", "kind", "day", "object", "stage", "next_stage", "days")
#: The record columns the rollup counts stays by, each its own segment. Not the owner: a book has
#: thousands of owners with a few hundred records each, whose views the records' own indexes
#: already answer within a second, and a row per owner, day, stage and days lasted would hold
#: nearly one row per stay (bench/RESULTS.md, "A rollup per filter value, tried and taken out").
SEGMENTS = ("country", "lead_source", "persona", "pipeline")
#: The segment and value of the rows counting the whole connection's stays.
WHOLE = ("", "")
#: A record's value of each segment (None where it has none).
Segments = Mapping[str, "str | None"]
#: The kinds of rows (see the module docstring).
MOVES, CLOSED_BY_DAY, CLOSED_BY_MONTH, OPEN_BY_DAY, COHORTS = 0, 1, 2, 3, 4
#: The kinds of rows that count stays.
KINDS = (MOVES, CLOSED_BY_DAY, CLOSED_BY_MONTH, OPEN_BY_DAY)


def segments_of(values: Mapping[str, Any]) -> dict[str, str | None]:
    """A record's :data:`SEGMENTS` values, from its state row's column values."""
    return {segment: values.get(segment) or None for segment in SEGMENTS}


def stored_segments(row: RecordState) -> dict[str, str | None]:
    """The :data:`SEGMENTS` values a stored state row holds."""
    return segments_of({segment: getattr(row, segment) for segment in SEGMENTS})


def _stays(kind: int, sign: int, segment: str, *conditions: Any) -> Any:
    """The stays of the events matching ``conditions`` as rows of ``kind`` in ``segment`` (``""``:
    the whole connection), grouped by the rollup's key, with their count times ``sign`` (1 counts
    them in, -1 out)."""
    day, none = utc_date(E.occurred_at), literal_column("''")
    lasted = calendar_days(day, utc_date(E.exited_at))
    columns = {MOVES: (day, func.coalesce(E.next_stage, none), literal_column("0")),
               CLOSED_BY_DAY: (day, none, lasted),
               CLOSED_BY_MONTH: (month_day(E.occurred_at), none, lasted),
               OPEN_BY_DAY: (day, none, literal_column("0"))}[kind]
    ended = {MOVES: [], OPEN_BY_DAY: [E.exited_at.is_(None)]}.get(kind, [E.exited_at.is_not(None)])
    value = none if not segment else getattr(RecordState, segment)
    query = select(E.connection_id, literal_column(f"'{segment}'"), value, literal_column(str(kind)),
                   columns[0], E.object, E.to_stage, *columns[1:], func.count() * sign).select_from(E)
    if segment:
        query = query.join(RecordState, same_record(RecordState, E)).where(value.is_not(None), value != "")
    # positional GROUP BY: PostgreSQL would not match the expressions' bound parameters
    return query.where(*conditions, *ended).group_by(
        *(literal_column(str(i)) for i in range(1, len(KEY) + 1)))


def _dialect(conn: Any) -> Any:
    """The SQL dialect of a Connection or a Session."""
    return conn.dialect if hasattr(conn, "dialect") else conn.get_bind().dialect


def _add(conn: Any, sign: int, *conditions: Any) -> None:
    """Add the stays of the events matching ``conditions``, times ``sign``, to the rollup: to the
    whole connection's rows and to each segment's."""
    dialect = _dialect(conn)
    for segment in ("", *SEGMENTS):
        for kind in KINDS:
            statement = INSERTS[dialect.name](JourneyRollup).from_select(
                [*KEY, "n"], _stays(kind, sign, segment, *conditions))
            conn.execute(statement.on_conflict_do_update(
                index_elements=list(KEY), set_={"n": JourneyRollup.__table__.c.n + statement.excluded.n}))


#: The event columns :func:`tally` reads (what the DELETE of replaced events hands back).
STAY_COLUMNS = (E.object, E.crm_id, E.to_stage, E.occurred_at, E.exited_at, E.next_stage)


def _utc_day(moment: datetime) -> date:
    """The UTC calendar date of an aware date and time (what ``utc_date`` gives in SQL)."""
    return moment.astimezone(timezone.utc).date()


def tally(counts: Counter, connection_id: int, events: Iterable[Mapping[str, Any]], sign: int,
          segments: Mapping[tuple[str, str], Segments]) -> None:
    """Add the stays of ``events`` (with the :data:`STAY_COLUMNS`), times ``sign``, to ``counts``
    by rollup key, for the whole connection and each segment value their record holds in
    ``segments`` (by (object, crm_id); a record not in it counts for the whole only): :func:`_stays`
    in Python."""
    for ev in events:
        obj, stage, day = ev["object"], ev["to_stage"], _utc_day(ev["occurred_at"])
        counted = [(MOVES, day, obj, stage, ev["next_stage"] or "", 0)]
        if ev["exited_at"] is None:
            counted.append((OPEN_BY_DAY, day, obj, stage, "", 0))
        else:
            lasted = max(0, (_utc_day(ev["exited_at"]) - day).days)
            counted += [(CLOSED_BY_DAY, day, obj, stage, "", lasted),
                        (CLOSED_BY_MONTH, day.replace(day=1), obj, stage, "", lasted)]
        _count(counts, connection_id, counted, segments.get((obj, ev["crm_id"])), sign)


def _count(counts: Counter, connection_id: int, keys: list[tuple[Any, ...]], held: Segments | None,
           sign: int) -> None:
    """Add ``sign`` to each of one record's ``keys`` (rollup keys from the kind on), for the whole
    connection and each segment value the record holds."""
    for where in (WHOLE, *((s, v) for s, v in (held or {}).items() if v)):
        for key in keys:
            counts[(connection_id, *where, *key)] += sign


#: The summary columns :func:`tally_cohorts` reads (what the DELETE of replaced summaries hands back).
COHORT_COLUMNS = (S.object, S.crm_id, S.path, S.first_stage, S.first_at, S.covered)


def reached(path: str) -> str:
    """Every stage of a journey summary's ``path``, sorted and joined as paths are: the
    :data:`COHORTS` rows' ``next_stage``."""
    return SEPARATOR.join(sorted(set(path.split(SEPARATOR))))


def tally_cohorts(counts: Counter, connection_id: int, rows: Iterable[Mapping[str, Any]], sign: int,
                  segments: Mapping[tuple[str, str], Segments]) -> None:
    """Add the :data:`COHORTS` rows of records' journey summaries (``rows`` with the
    :data:`COHORT_COLUMNS`), times ``sign``, to ``counts``, as :func:`tally` does the stays."""
    for row in rows:
        first = row["first_stage"] if row["covered"] else ""
        key = (COHORTS, _utc_day(row["first_at"]), row["object"], first, reached(row["path"]), 0)
        _count(counts, connection_id, [key], segments.get((row["object"], row["crm_id"])), sign)


def add(session: Any, connection_id: int, counts: Counter) -> None:
    """Add ``counts`` (from :func:`tally`) to the connection's rollup, then drop the rows whose
    count fell to 0 (a stay that ended leaves its open row empty) if any count went down."""
    if _upsert(session, counts):
        session.execute(delete(JourneyRollup).where(JourneyRollup.connection_id == connection_id,
                                                    JourneyRollup.n == 0))


def _upsert(conn: Any, counts: Counter) -> bool:
    """Add ``counts`` to the rollup rows of their keys (any connections'); True if a count went
    down."""
    # sorted: two transactions upserting the same keys take their row locks in the same order
    rows = [dict(zip(KEY, key), n=n) for key, n in sorted(counts.items()) if n]
    if not rows:
        return False
    # Core, executemany: the ORM's bulk INSERT would spend ~0.5 s of Python per page on the rows
    table = JourneyRollup.__table__
    statement = INSERTS[_dialect(conn).name](table)
    conn.execute(statement.on_conflict_do_update(
        index_elements=list(KEY), set_={"n": table.c.n + statement.excluded.n}), rows)
    return any(row["n"] < 0 for row in rows)


def rebuild(conn: Any, connection_id: int | None = None) -> None:
    """Count one connection's stays and cohorts (every connection's without ``connection_id``)
    afresh: the backfill of the migrations and of events written in bulk (the benchmark), after
    the journey summaries are made."""
    rebuild_stays(conn, connection_id)
    rebuild_cohorts(conn, connection_id)


def rebuild_stays(conn: Any, connection_id: int | None = None) -> None:
    """Count the rows of stays afresh from the stored events and record states, in set-based SQL."""
    only = [] if connection_id is None else [JourneyRollup.connection_id == connection_id]
    conn.execute(delete(JourneyRollup).where(*only, JourneyRollup.kind.in_(KINDS)))
    _add(conn, 1, *([] if connection_id is None else [E.connection_id == connection_id]))


#: Records whose cohort rows :func:`rebuild_cohorts` tallies before adding them to the table.
COHORT_CHUNK = 50_000


def rebuild_cohorts(conn: Any, connection_id: int | None = None) -> None:
    """Count the :data:`COHORTS` rows afresh from the stored journey summaries and record states,
    in chunks of records (memory bounded by a chunk's distinct keys)."""
    only = [] if connection_id is None else [JourneyRollup.connection_id == connection_id]
    conn.execute(delete(JourneyRollup).where(*only, JourneyRollup.kind == COHORTS))
    rows = select(S.connection_id, *COHORT_COLUMNS, *(getattr(RecordState, s) for s in SEGMENTS)) \
        .outerjoin(RecordState, same_record(RecordState, S))
    if connection_id is not None:
        rows = rows.where(S.connection_id == connection_id)
    # streamed (a server-side cursor on PostgreSQL) and added a chunk at a time: memory holds a
    # chunk's distinct keys, not a million records' rows; in order of first entry, so a chunk's
    # records share their days and few keys are upserted by more than one chunk
    rows = rows.order_by(S.connection_id, S.first_at).execution_options(yield_per=COHORT_CHUNK)
    for chunk in conn.execute(rows).mappings().partitions():
        counts: Counter = Counter()
        for row in chunk:
            tally_cohorts(counts, row["connection_id"], [row], 1,
                          {(row["object"], row["crm_id"]): segments_of(row)})
        _upsert(conn, counts)
