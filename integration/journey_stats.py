"""Journey analytics aggregated in the database: funnels, time in stage, outcomes, trends, cohorts,
skipped and repeated stages, common paths.

Every figure is one SQL query over the journey events (one row per stage a record entered) of the
records a :class:`~integration.analytics.RecordFilter` selects; only counts come back (of days
spent in a stage, a histogram: its percentiles are picked in :mod:`mapping.analytics`), so memory
does not grow with the rows read. The period bounds the date a
record *entered* a stage (the event's ``occurred_at``): a stay belongs to the period it began in.
Days in a stage are calendar days (UTC) from the day the stay began to the day it ended, or to
today while it lasts.

Time in stage, outcomes, trends, cohorts and the skipped/repeated stages add up the journey
rollup (:mod:`integration.store.rollups`: stays counted per day begun, stage and next stage, or
per day or month begun, stage and days lasted, and records per day of their first entry, first
stage and stages reached, for the whole connection and per persona, country, lead source and
pipeline, kept up to date as events are written) when it covers the view: no filter
on the records but their object and one of those, and a period of whole UTC days (the API's and
the pages' periods are). Other views count the stays themselves (:func:`_stays`).

The funnel, common paths (and cohorts the rollup does not answer) follow each record's own
entries, which day counts cannot tell: they read the journey summary (:mod:`integration.store.summaries`: one row per record, its
path and its entries' times), which hands back the run of stages each record entered in the
period, grouped, for :mod:`mapping.journey_runs` to count. The moves of the views the rollup does
not answer are counted from the same runs (each entry followed by its path's next stage), and on
PostgreSQL their stays are read from the summary too: stay ``i`` of a record is its path's
``i``-th stage, from entry time ``i`` to the next. The few records the summary does not cover
(many entries, or two at the same moment) are read from their events, and the two parts added
up. All paths give the same answers.

The shaping of those aggregates into rows (conversion, skipped stages, ...) is pure and lives in
:mod:`mapping.analytics`.
"""
from __future__ import annotations

import functools
import heapq
import operator
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from functools import cache
from typing import Any, Callable, Iterator

from sqlalchemy import Date, and_, case, false, func, literal, literal_column, or_, select, true, union_all
from sqlmodel import Session

from integration.analytics import RecordFilter, records_lead
from integration.store.bulk import is_postgres, one_of
from integration.store.models import JourneyEvent, JourneyRollup, JourneySummary, RecordState, same_record
from integration.store.rollups import CLOSED_BY_DAY, CLOSED_BY_MONTH, COHORTS, MOVES, OPEN_BY_DAY, SEGMENTS
from integration.store.summaries import ENTRY_TIMES, SEPARATOR
from integration.store.sqlfuncs import (BUCKETS, calendar_days, count_before, month_start, ordered_concat,
                                        path_item, stage_index, utc_date)
from integration.store.types import utcnow
from mapping import JourneyMap
from mapping.analytics import (cohort_rows, funnel_rows, journey_rows, outcome_rows, percentiles,
                               stage_days_rows, trend_rows)
from mapping.journey_runs import add_counts, furthest_stage, path_moves, run_funnel_counts

E = JourneyEvent
R = JourneyRollup
S = JourneySummary
#: The records the journey summary does not cover, read from their events.
UNCOVERED = S.covered == false()
#: Most common paths reported at most.
MAX_PATHS = 50
#: Paths of covered records with the period's cuts: (stages, start, end, records) (:func:`_period_paths`).
PeriodPaths = list[tuple[list[str], int, int, int]]
#: SQLite: the code point standing for no entries before a bound, in a path's coded cuts
#: (:func:`_coded_cuts`): "0", then "1", "2"... up to the summary's slots.
CUT_CODE = ord("0")
#: The span trends and cohorts cover when the period has no start.
TREND_SPAN = timedelta(days=365)


def last_year(flt: RecordFilter, now: datetime | None = None) -> RecordFilter:
    """``flt`` with its period starting a year before its end (or the start of today) when it
    has no start: a period of whole days, which the rollup answers."""
    if flt.since is not None:
        return flt
    end = flt.until or _midnight((now or utcnow()).astimezone(timezone.utc).date())
    return replace(flt, since=end - TREND_SPAN)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), timezone.utc)


def rollup_covers(flt: RecordFilter) -> bool:
    """Whether the journey rollup answers views of ``flt``: no condition on the records but their
    object and at most one of the rollup's segments, and a period bounded (if at all) at the
    start of UTC days."""
    return _segment(flt) is not None and all(
        bound is None or bound == _midnight(bound.astimezone(timezone.utc).date())
        for bound in (flt.since, flt.until))


def _segment(flt: RecordFilter) -> tuple[str, str] | None:
    """The rollup segment and value whose rows count the records of ``flt`` (``""``: the whole
    connection's), None if no segment does (a condition the rollup does not count by); the
    rows hold the records' object."""
    return flt.segment(SEGMENTS, ignoring=("object",))


def _in_segment(flt: RecordFilter) -> list[Any]:
    """Conditions picking the rollup rows of the segment and value ``flt`` filters by."""
    segment, value = _segment(flt)
    return [R.segment == segment, R.value == value]


def _day_bounds(flt: RecordFilter) -> tuple[date | None, date | None]:
    """The period as [first day, day after the last) (whole days: see :func:`rollup_covers`)."""
    return tuple(None if bound is None else bound.astimezone(timezone.utc).date()
                 for bound in (flt.since, flt.until))  # type: ignore[return-value]


def _rollup(connection_id: int, flt: RecordFilter, kind: int, days: tuple[date | None, date | None],
            *columns: Any) -> Any:
    """SELECT ``columns`` FROM the connection's rollup rows of ``kind`` whose day lies within
    ``days`` ([first, end), None unbounded), of the filter's segment value and object."""
    query = select(*columns).where(R.connection_id == connection_id, *_in_segment(flt), R.kind == kind)
    if flt.object is not None:
        query = query.where(R.object == flt.object)
    if days[0] is not None:
        query = query.where(R.day >= days[0])
    if days[1] is not None:
        query = query.where(R.day < days[1])
    return query


def _whole_months(low: date | None, high: date | None) -> tuple[date | None, date | None] | None:
    """The months lying whole within [low, high) as [first day, end), None if there are none."""
    first = low if low is None or low.day == 1 else \
        (low.replace(day=1) + timedelta(days=32)).replace(day=1)
    end = None if high is None else high.replace(day=1)
    return (first, end) if first is None or end is None or first < end else None


def _stay_days(connection_id: int, flt: RecordFilter, now: datetime, by_month: bool = True) -> Any:
    """Subquery (day, stage, days, n) of the rollup: the stays begun in the period and their
    calendar days. Stays that ended are read per month over the months the period covers whole
    (unless not ``by_month``) and per day elsewhere; open ones per day, their days to today."""
    low, high = _day_bounds(flt)
    today = literal(now.astimezone(timezone.utc).date(), Date())
    parts = [_rollup(connection_id, flt, OPEN_BY_DAY, (low, high), R.day, R.stage,
                     calendar_days(R.day, today).label("days"), R.n)]
    closed = (R.day, R.stage, R.days, R.n)
    months = _whole_months(low, high) if by_month else None
    if months is None:
        parts.append(_rollup(connection_id, flt, CLOSED_BY_DAY, (low, high), *closed))
    else:
        parts.append(_rollup(connection_id, flt, CLOSED_BY_MONTH, months, *closed))
        for edge in ((low, months[0]), (months[1], high)):
            if edge[0] != edge[1] and None not in edge:
                parts.append(_rollup(connection_id, flt, CLOSED_BY_DAY, edge, *closed))
    return union_all(*parts).subquery("stays")


def _of_records(table: Any, connection_id: int, flt: RecordFilter, *columns: Any) -> Any:
    """SELECT ``columns`` FROM the connection's rows of ``table`` (journey events or summaries)
    of the filtered records. Records are joined only when a filter needs them: the unfiltered
    dashboard, and the one of an object, read ``table`` alone."""
    query = select(*columns).select_from(table).where(table.connection_id == connection_id)
    if flt.object is not None:
        query = query.where(table.object == flt.object)
    if _joins_records(flt):
        query = flt.apply(query.join(RecordState, same_record(RecordState, table)))
    return query


def _events(connection_id: int, flt: RecordFilter, *columns: Any, period: bool = True) -> Any:
    """SELECT ``columns`` FROM the connection's journey events of the filtered records, entered
    within the period (unless ``period`` is False)."""
    query = _of_records(E, connection_id, flt, *columns)
    if period:
        query = query.where(*flt.in_period(records_lead(E.occurred_at, flt)))
    return query


def _summarised(query: Any, *conditions: Any) -> Any:
    """``query`` over journey events narrowed to the records whose summary meets ``conditions``."""
    return query.join(S, same_record(S, E, *conditions))


def _entries_before(moment: datetime, code: int | None = None) -> Any:
    """How many of a covered record's entries came before ``moment`` (its entry times increase);
    with ``code``, as one character (:func:`~integration.store.sqlfuncs.count_before`)."""
    return count_before(moment, ENTRY_TIMES, code=code)


def _reaching(since: datetime | None, until: datetime | None) -> list[Any]:
    """Conditions on the summary leaving out the records that entered nothing in the period
    [``since``, ``until``): their last entry came before its start, or their first at or after
    its end."""
    return ([S.last_at >= since] if since is not None else []) + \
        ([S.first_at < until] if until is not None else [])


def _period_paths(session: Session, connection_id: int,
                  flt: RecordFilter) -> PeriodPaths:
    """The paths of stages (exits and others included) of the filtered records the journey
    summary covers that entered a stage in the period, each as (stages, start, end, records):
    the period's entries are ``stages[start:end]``, and ``records`` records share that path and
    those cuts.

    A covered record's entries strictly follow one another, so those of a period are its path
    from the first entry at or after the period's start to the last one before its end: the
    entries before each bound are counted in SQL and the paths cut in Python, once per distinct
    (path, cuts)."""
    bounds = {name: bound for name, bound in (("start", flt.since), ("end", _cut_end(session, connection_id, flt)))
              if bound is not None}
    read = _coded_cuts if bounds and not is_postgres(session) and not _joins_records(flt) else _counted_cuts
    paths = []
    for path, cut, records in read(session, connection_id, flt, bounds):
        stages = path.split(SEPARATOR)
        start, end = cut.get("start", 0), cut.get("end", len(stages))
        if start < end:
            paths.append((stages, start, end, records))
    return paths


def _covered_reaching(connection_id: int, flt: RecordFilter, bounds: dict[str, datetime],
                      *columns: Any) -> Any:
    """SELECT ``columns`` FROM the summaries of the filtered records it covers whose journey
    reaches into the period as cut by ``bounds`` (:func:`_period_paths`)."""
    return _of_records(S, connection_id, flt, *columns) \
        .where(S.covered == true(), *_reaching(bounds.get("start"), bounds.get("end")))


def _counted_cuts(session: Session, connection_id: int, flt: RecordFilter,
                  bounds: dict[str, datetime]) -> Iterator[tuple[str, dict[str, int], int]]:
    """(path, cuts, records) of :func:`_period_paths`' records: ``cuts`` holds, per bound, the
    entries before it (none: the path is not cut there); one row per record grouped by path and
    cuts (:func:`_grouped`)."""
    cuts = {name: _entries_before(bound).label(name) for name, bound in bounds.items()}
    per_record = _covered_reaching(connection_id, flt, bounds, S.path, *cuts.values()).subquery()
    groups = [*(per_record.c[name] for name in cuts), per_record.c.path]
    for *found, path, records in _grouped(session, groups, stream=bool(cuts)):
        yield path, dict(zip(cuts, found)), records


def _coded_cuts(session: Session, connection_id: int, flt: RecordFilter,
                bounds: dict[str, datetime]) -> Iterator[tuple[str, dict[str, int], int]]:
    """:func:`_counted_cuts` on SQLite for a view reading the summary alone: one row per path,
    grouped in the order of its period index (no sort), with how many records took it and, in
    one text, a character per bound of each record the bounds cut (entries before the bound as
    the code point ``CUT_CODE`` + n, the CASE of the comparisons naming the character itself):
    at 1,000,000 records the last 365 days read 5,300 rows, not 722,000 rows streamed into a
    ``Counter`` (0.7-1.1 -> 0.4-0.5 s; bench/RESULTS.md). A record is cut at the start when it
    entered a stage before it (its first entry did), and at the end when it entered one at or
    after it (its last did). With no end cut (:func:`_cut_end`) every record began before the
    period's end, and that is not tested either.

    SQLite seeks each path's entries of the period rather than walking the whole connection's:
    it does not skip-scan past the connection, so the query names the connection's paths (read
    skipping ahead in the paths index: 18 ms for 5,700 paths), and each one's range of last
    entries is read (the last 7 days 293 -> 71 ms)."""
    cut = or_(*([S.first_at < bounds["start"]] if "start" in bounds else []),
              *([S.last_at >= bounds["end"]] if "end" in bounds else []))
    codes = functools.reduce(operator.add, (_entries_before(bound, CUT_CODE) for bound in bounds.values()))
    paths = select(S.path).where(S.connection_id == connection_id).distinct().scalar_subquery()
    query = _covered_reaching(connection_id, flt, bounds, S.path, func.count(),
                              func.group_concat(case((cut, codes)), "")) \
        .where(S.path.in_(paths)).group_by(S.path)
    width = len(bounds)
    for path, records, coded in session.execute(query):
        coded = coded or ""
        cut_records = len(coded) // width
        if records > cut_records:
            yield path, {}, records - cut_records
        # each record's characters side by side: counted in C, not one slice a record in Python
        for code, n in Counter(zip(*(coded[i::width] for i in range(width)))).items():
            yield path, {name: ord(c) - CUT_CODE for name, c in zip(bounds, code)}, n


def _joins_records(flt: RecordFilter) -> bool:
    """Whether the view's rows are joined to their records (:func:`_of_records`): a filter on
    them beyond their object."""
    return replace(flt, object=None).narrows_records()


def _cut_end(session: Session, connection_id: int, flt: RecordFilter) -> datetime | None:
    """Where the period's paths are cut at their end: its end, or None when no journey event of
    the connection lies at or after it (a period up to today), every path then running to its
    last entry (one look-up of the newest event; at 1,000,000 records the cut costs SQLite
    0.13-0.18 s of the last year's paths)."""
    if flt.until is None:
        return None
    newest = session.execute(select(func.max(E.occurred_at)).where(E.connection_id == connection_id)).scalar()
    return flt.until if newest is not None and newest >= flt.until else None


def _grouped(session: Session, groups: list[Any], *where: Any, weight: Any = None,
             stream: bool = False) -> Any:
    """Each distinct value of ``groups`` among the rows meeting ``where``, with how many rows hold
    it (or the sum of their ``weight``: rollup rows stand for several stays).

    PostgreSQL groups by hashing; SQLite only by sorting every row (a temp B-tree) unless it reads
    them in an index's order. With ``stream`` SQLite's rows are counted here as they come instead,
    each distinct value kept once: worth it for many long rows into few groups (the whole connection's last
    90 days' paths at 1,000,000 records, before :func:`_coded_cuts` read them per path: 320,000
    rows into 6,800 groups, 540-860 -> 330-450 ms), not for
    short ones, and only for one read at a time: each row fetched takes Python's lock, so two
    reads streaming side by side hand it to each other row by row (a page's stays and paths
    streamed together at 1,000,000 records: the KPIs of one country 1.45 -> 2.3-2.5 s).
    Streamed values come as the driver reads them: numbers and text, not dates. Weighted rows
    (few: rollups) are always grouped in SQL."""
    rows = select(*(group.label(f"g{i}") for i, group in enumerate(groups)),
                  *([] if weight is None else [weight.label("weight")])).where(*where).subquery()
    keys = [rows.c[f"g{i}"] for i in range(len(groups))]
    if is_postgres(session) or not stream or weight is not None:
        counted = func.count() if weight is None else func.sum(rows.c.weight)
        return session.execute(select(*keys, counted).group_by(*keys))
    # the driver's own cursor: its rows come as plain tuples, where result rows cost 1-2 µs each
    return ((*value, n) for value, n in Counter(session.connection().execute(select(*keys)).cursor).items())


def _day_histograms(session: Session, groups: list[Any], days: Any, *where: Any,
                    weight: Any = None) -> dict[tuple[Any, ...], Counter]:
    """Per distinct value of ``groups`` among the stays meeting ``where``: how many stays lasted
    each number of ``days``, for :func:`mapping.analytics.percentiles`: only the histogram leaves
    the database (16,000 rows for a year of one country's stays by month at 1,000,000 records)."""
    found: dict[tuple[Any, ...], Counter] = defaultdict(Counter)
    for *group, value, n in _grouped(session, [*groups, days], *where, weight=weight):
        found[tuple(group)][value] += int(n)
    return found


def shared_paths(session: Session, connection_id: int, flt: RecordFilter) -> Callable[[], PeriodPaths]:
    """The view's period paths (:func:`_period_paths`) read on the first call only: the reports
    of one page that need them (funnel and outcomes, moves and common paths) take it as
    ``paths`` and share one read."""
    return cache(lambda: _period_paths(session, connection_id, flt))


def _paths_of(session: Session, connection_id: int, flt: RecordFilter,
              paths: Callable[[], PeriodPaths] | None) -> PeriodPaths:
    return paths() if paths is not None else _period_paths(session, connection_id, flt)


def _runs(periods: PeriodPaths) -> list[tuple[list[str], int]]:
    """The runs of stages the records of ``periods`` (:func:`_period_paths`) entered in the
    period, with how many records took each run."""
    return [(stages[start:end], records) for stages, start, end, records in periods]


def _stays(session: Session, connection_id: int, flt: RecordFilter, now: datetime,
           moves: bool = True) -> Any:
    """Subquery (stage, next_stage, occurred_at, days) of the stays the filtered records began in
    the period: the stage, the one entered next (NULL while the record is still in it, and
    always unless ``moves``), when the stay began and its calendar days (to today while it
    lasts). An event holds its stay's next stage, and the record index all of it: SQLite reads
    each stay from the index alone (one country over a year at 1,000,000 records: the stays with
    their moves 790 -> 270 ms, against a row and a next-event look-up each; bench/RESULTS.md).

    On PostgreSQL a covered record's stays are read from its summary: stay ``i`` is its path's
    ``i``-th stage, from entry time ``i`` to entry time ``i + 1``, and those of the period are the
    ones whose entry time lies in it (the times increase). That is one look-up per record where
    the events cost one per record and one per stay (one country over a year
    at 500,000 records: time in stage 0.8-0.9 -> 0.5-0.7 s, trends 1.2-1.4 -> 0.8-0.9 s;
    bench/RESULTS.md). SQLite's look-ups cost less than the expressions that cut a summary into
    stays, so it reads every record's stays from its events, as PostgreSQL does for the records
    the summary does not cover. (The moves alone are counted from the paths: :func:`transitions`.)"""
    next_stage = E.next_stage if moves else literal_column("NULL")
    from_events = _events(connection_id, flt, E.to_stage.label("stage"), next_stage.label("next_stage"),
                          E.occurred_at, _days_between(E.occurred_at, E.exited_at, now).label("days"))
    if not is_postgres(session):
        return from_events.subquery("stays")
    records = _of_records(S, connection_id, flt, S.path, *ENTRY_TIMES) \
        .where(S.covered == true(), *_reaching(flt.since, flt.until)).subquery("covered_records")
    slots = union_all(*(select(literal(i).label("slot")) for i in range(len(ENTRY_TIMES)))) \
        .subquery("slots")
    r, slot = records.c, slots.c.slot
    began = case({i: r[column.key] for i, column in enumerate(ENTRY_TIMES)}, value=slot)
    ended = case({i: r[column.key] for i, column in enumerate(ENTRY_TIMES[1:])}, value=slot)
    from_summary = select(path_item(r.path, slot).label("stage"),
                          (path_item(r.path, slot + 1) if moves else next_stage).label("next_stage"),
                          began.label("occurred_at"),
                          _days_between(began, ended, now).label("days")) \
        .select_from(records).join(slots, and_(began.is_not(None), *flt.in_period(began)))
    return union_all(from_summary, _summarised(from_events, UNCOVERED)).subquery("stays")


def _of_map(session: Session, stays: Any, keys: list[str]) -> list[Any]:
    """The condition that keeps the map's stages of :func:`_stays` out of the exits, on SQLite;
    PostgreSQL counts the exits too (their rows are dropped when shaped). There a condition on
    the stage of stays cut from summaries looks to the planner as if it kept 3% of them (85% do),
    and for so few rows it sorts them, on disk, to group them; unfiltered it hashes them (one
    country over a year at 1,000,000 records: time in stage 515 -> 375 ms, trends 715 -> 480 ms).
    On SQLite the condition saves the exits' rows (5%)."""
    return [] if is_postgres(session) else [stays.stage.in_(keys)]


def _days_between(began: Any, ended: Any, now: datetime) -> Any:
    """Calendar days of a stay from ``began`` to ``ended``, or to today (``now``) while it lasts
    (``ended`` NULL)."""
    return calendar_days(utc_date(began), utc_date(func.coalesce(ended, literal(now, E.occurred_at.type))))


def funnel_columns(keys: list[str]) -> list[Any]:
    """The per-unit columns of a funnel, for a query over journey events grouped by unit (a
    record, or a person or deal of the workspace): its furthest stage's position ``furthest``
    and its first entry into each stage ``f0``, ``f1``..."""
    return [func.max(stage_index(E.to_stage, keys)).label("furthest"),
            *(func.min(case((E.to_stage == key, E.occurred_at))).label(f"f{i}")
              for i, key in enumerate(keys))]


def funnel_counts(session: Session, per_unit: Any, stages: int) -> list[tuple[int, int, int]]:
    """Per stage, the (reached, entered, strict) counts of the units of ``per_unit`` (a subquery
    of :func:`funnel_columns`; with a column ``n``, each row stands for ``n`` units), in one row
    computed in SQL."""
    c = per_unit.c
    units = c.n if "n" in c else 1
    totals = []
    for i in range(stages):
        in_order = and_(*(c[f"f{j}"].is_not(None) for j in range(i + 1)),
                        *(c[f"f{j}"] >= c[f"f{j - 1}"] for j in range(1, i + 1)))
        totals += [func.sum(case((c.furthest >= i, units), else_=0)),
                   func.sum(case((c[f"f{i}"].is_not(None), units), else_=0)),
                   func.sum(case((in_order, units), else_=0))]
    row = session.execute(select(*totals)).one()
    return [tuple(int(v or 0) for v in row[3 * i:3 * i + 3]) for i in range(stages)]


def funnel_report(session: Session, connection_id: int, jmap: JourneyMap, flt: RecordFilter,
                  paths: Callable[[], PeriodPaths] | None = None) -> list[dict[str, Any]]:
    """Per stage, the three funnel counts over stage entries in the period (see
    :func:`mapping.analytics.funnel_rows` for their definitions): the records the journey
    summary covers from their runs, the others from one row per record of their events.
    ``paths``: the page's :func:`shared_paths`, if it has one."""
    keys = jmap.stage_keys
    per_record = _summarised(_events(connection_id, flt, *funnel_columns(keys)), UNCOVERED) \
        .where(E.to_stage.in_(keys)).group_by(E.object, E.crm_id).subquery()
    runs = _runs(_paths_of(session, connection_id, flt, paths))
    return funnel_rows(add_counts(funnel_counts(session, per_record, len(keys)),
                                  run_funnel_counts(runs, keys)), jmap)


def time_in_stage_report(session: Session, connection_id: int, jmap: JourneyMap, flt: RecordFilter,
                         now: datetime | None = None) -> list[dict[str, Any]]:
    """Per stage: count, median, p25, p75 and p90 calendar days of the stays begun in the period
    (a stay runs to its exit, or to today while it lasts), against the expected days."""
    now, keys = now or utcnow(), jmap.stage_keys
    if rollup_covers(flt):
        stays = _stay_days(connection_id, flt, now).c
        hists = _day_histograms(session, [stays.stage], stays.days, stays.stage.in_(keys), weight=stays.n)
    else:
        stays = _stays(session, connection_id, flt, now, moves=False).c
        hists = _day_histograms(session, [stays.stage], stays.days, *_of_map(session, stays, keys))
    found = {stage: {"count": sum(days.values()), **percentiles(days)} for (stage,), days in hists.items()}
    return stage_days_rows(found, jmap)


def transitions(session: Session, connection_id: int, flt: RecordFilter,
                paths: Callable[[], PeriodPaths] | None = None
                ) -> dict[tuple[str, str | None], int]:
    """Stays begun in the period counted by (stage, the stage entered next); next is None while
    the record is still in the stage. ``paths``: the page's :func:`shared_paths`, if it has one."""
    if rollup_covers(flt):
        query = _rollup(connection_id, flt, MOVES, _day_bounds(flt), R.stage, R.next_stage,
                        func.sum(R.n)).group_by(R.stage, R.next_stage)
        # the rollup names "no next stage yet" "" (a key column)
        return {(stage, following or None): int(n) for stage, following, n in session.execute(query)}
    # A covered record's stays of the period are its path's entries there, each followed by the
    # path's next stage: counted per distinct (path, cuts). The others' from their events.
    moves = path_moves(_paths_of(session, connection_id, flt, paths))
    uncovered = _summarised(_events(connection_id, flt, E.to_stage, E.next_stage, func.count()),
                            UNCOVERED).group_by(E.to_stage, E.next_stage)
    for stage, following, n in session.execute(uncovered):
        moves[(stage, following)] += n
    return dict(moves)


def outcome_report(session: Session, connection_id: int, jmap: JourneyMap, flt: RecordFilter,
                   paths: Callable[[], PeriodPaths] | None = None) -> list[dict[str, Any]]:
    """Per stage: how the stays begun in the period ended (see :func:`mapping.analytics.outcome_rows`).
    ``paths``: the page's :func:`shared_paths`, if it has one."""
    return outcome_rows(transitions(session, connection_id, flt, paths), jmap)


def journey_report(session: Session, connection_id: int, jmap: JourneyMap, flt: RecordFilter,
                   top: int = 10) -> dict[str, Any]:
    """Stages skipped, stages repeated (backward moves) and the ``top`` most common paths."""
    paths = shared_paths(session, connection_id, flt)  # read once for both
    return journey_rows(transitions(session, connection_id, flt, paths), common_paths(
        session, connection_id, flt, top, paths), jmap)


def common_paths(session: Session, connection_id: int, flt: RecordFilter, top: int,
                 paths: Callable[[], PeriodPaths] | None = None
                 ) -> list[tuple[list[str], int]]:
    """The ``top`` most common sequences of stages (exits included) records entered in the
    period, with how many records took each (paths as common in the order of their text): the
    runs of the records the journey summary covers, and the others' paths from their events.
    ``paths``: the page's :func:`shared_paths`, if it has one."""
    ordered = _summarised(_events(connection_id, flt, E.object, E.crm_id, E.seq, E.to_stage),
                          UNCOVERED).order_by(E.object, E.crm_id, E.seq).subquery()
    o = ordered.c
    per_record = select(ordered_concat(o.to_stage, o.seq).label("path")).group_by(o.object, o.crm_id) \
        .subquery()
    counted = Counter(dict(session.execute(select(per_record.c.path, func.count())
                                           .group_by(per_record.c.path)).all()))
    for run, records in _runs(_paths_of(session, connection_id, flt, paths)):
        counted[SEPARATOR.join(run)] += records
    ranked = heapq.nsmallest(min(top, MAX_PATHS), counted.items(), key=lambda item: (-item[1], item[0]))
    return [(path.split(SEPARATOR), n) for path, n in ranked]


def trend_report(session: Session, connection_id: int, jmap: JourneyMap, flt: RecordFilter,
                 unit: str = "month", now: datetime | None = None) -> dict[str, Any]:
    """Per week or month (of entering the stage) and stage: stays begun, the share that has moved
    on to a later stage, and their median days."""
    keys, now = jmap.stage_keys, now or utcnow()
    if rollup_covers(flt):
        return trend_rows(_rollup_trend(session, connection_id, keys, flt, unit, now), jmap, unit)
    stays = _stays(session, connection_id, flt, now).c
    moved_on = case((stage_index(stays.next_stage, keys) > stage_index(stays.stage, keys), 1), else_=0)
    hists = _day_histograms(session, [BUCKETS[unit](stays.occurred_at), stays.stage, moved_on], stays.days,
                            *_of_map(session, stays, keys))
    per_point: dict[tuple[str, str], Counter] = defaultdict(Counter)
    moved: Counter = Counter()
    for (bucket, stage, moved_flag), days in hists.items():
        per_point[(bucket, stage)].update(days)
        if moved_flag:
            moved[(bucket, stage)] += sum(days.values())
    return trend_rows(_trend_points(per_point, moved), jmap, unit)


def _trend_points(per_point: dict[tuple[str, str], Counter], moved: Counter
                  ) -> list[tuple[str, str, int, int, float | None]]:
    """(bucket, stage, stays, moved on, median days) in the order of the buckets, from each
    point's histogram of days and the stays of it that moved on."""
    return [(bucket, stage, sum(days.values()), moved[(bucket, stage)],
             percentiles(days, {"median": 0.5})["median"])
            for (bucket, stage), days in sorted(per_point.items())]


def _rollup_trend(session: Session, connection_id: int, keys: list[str], flt: RecordFilter, unit: str,
                  now: datetime) -> list[tuple[str, str, int, int, Any]]:
    """:func:`trend_report`'s points from the rollup: stays and median days per bucket and stage
    from the stays' days (months whole for monthly buckets), moved on from the moves."""
    stays = _stay_days(connection_id, flt, now, by_month=unit == "month").c
    hists = _day_histograms(session, [BUCKETS[unit](stays.day), stays.stage], stays.days,
                            stays.stage.in_(keys), weight=stays.n)
    move_bucket = BUCKETS[unit](R.day)
    moved = Counter({(b, s): int(m or 0) for b, s, m in session.execute(_rollup(
        connection_id, flt, MOVES, _day_bounds(flt), move_bucket, R.stage,
        func.sum(case((stage_index(R.next_stage, keys) > stage_index(R.stage, keys), R.n), else_=0)))
        .group_by(move_bucket, R.stage))})
    return _trend_points(hists, moved)


def cohort_report(session: Session, connection_id: int, jmap: JourneyMap,
                  flt: RecordFilter) -> list[dict[str, Any]]:
    """Records grouped by the month they entered their first journey stage (in the period), and
    how many of each month's records reached each stage by now (furthest stage, any date).

    A covered record whose journey begins in a stage of the map entered it first: its summary's
    month and path tell its cohort and furthest stage, and the rollup's cohort rows count such
    records by day, first stage and stages reached (:func:`_rollup_cohorts`, when it covers the
    view). The uncovered records, and the covered ones beginning elsewhere (an exit, a stage the
    map no longer has), are read from their events."""
    keys = jmap.stage_keys
    if rollup_covers(flt):
        return cohort_rows(_rollup_cohorts(session, connection_id, keys, flt), jmap)
    rows = []
    # grouped in the order of the summary's paths index: no sort of the records. Unless the
    # records lead: SQLite would walk every record of the connection in that index for its order,
    # looking each one up in the filter (5.8 s for one country at a million records, 1.1 s led)
    path = records_lead(S.path, flt)
    for path, month, n in session.execute(
            _of_records(S, connection_id, flt, path, S.first_month, func.count())
            .where(S.covered == true(), *flt.in_period(S.first_at)).group_by(path, S.first_month)):
        run = path.split(SEPARATOR)
        if run[0] in keys:
            rows.append((month, furthest_stage(run, keys), n))
    # those beginning elsewhere may enter the map in the period after beginning before it
    elsewhere = [path for path in session.execute(
        _of_records(S, connection_id, flt, S.path).distinct()
        .where(S.covered == true(), S.first_stage.not_in(keys),
               *([S.first_at < flt.until] if flt.until is not None else []))).scalars()
        if furthest_stage(path.split(SEPARATOR), keys) is not None]
    rows += _event_cohorts(session, connection_id, flt, keys, UNCOVERED)
    if elsewhere:
        rows += _event_cohorts(session, connection_id, flt, keys,
                               and_(S.covered == true(), one_of(session, S.path, elsewhere)))
    return cohort_rows(rows, jmap)


def _rollup_cohorts(session: Session, connection_id: int, keys: list[str],
                    flt: RecordFilter) -> list[tuple[str, int, int]]:
    """:func:`cohort_report`'s (month, furthest stage, records) from the rollup's cohort rows of
    the records beginning in a stage of the map. The uncovered records are read from their
    events, as the summary's view reads them; so are the covered ones beginning elsewhere when
    the rollup counts any that reached the map and began before the period's end (their first
    entry into the map may lie in it): one read of the cohort rows up to that end tells both."""
    low, high = _day_bounds(flt)
    groups = [month_start(R.day), R.stage, R.next_stage]
    if low is not None:  # whether the record began in the period
        groups.insert(0, (R.day >= low).label("inside"))
    rows, elsewhere = [], set()
    for *within, month_of, first, stages, n in session.execute(
            _rollup(connection_id, flt, COHORTS, (None, high), *groups, func.sum(R.n))
            .where(R.stage != "").group_by(*groups)):
        furthest = furthest_stage(stages.split(SEPARATOR), keys)
        if furthest is None:
            continue
        if first not in keys:
            elsewhere.add(first)
        elif all(within):
            rows.append((month_of, furthest, int(n)))
    rows += _event_cohorts(session, connection_id, flt, keys, UNCOVERED)
    if elsewhere:
        rows += _event_cohorts(session, connection_id, flt, keys, and_(
            S.covered == true(), S.first_stage.in_(sorted(elsewhere)), *_reaching(flt.since, flt.until)))
    return rows


def _event_cohorts(session: Session, connection_id: int, flt: RecordFilter, keys: list[str],
                   records: Any) -> list[tuple[str, int, int]]:
    """(month, furthest stage, records) of the filtered records whose summary meets ``records``,
    from their events: their first entry into a stage of ``keys`` in the period."""
    first = func.min(E.occurred_at)
    per_record = _summarised(_events(
        connection_id, flt, first.label("first_at"),
        func.max(stage_index(E.to_stage, keys)).label("furthest"), period=False), records) \
        .where(E.to_stage.in_(keys)).group_by(E.object, E.crm_id) \
        .having(and_(True, *flt.in_period(first))).subquery()
    c = per_record.c
    cohort = month_start(c.first_at)
    return [(month, furthest, n) for month, furthest, n in session.execute(
        select(cohort, c.furthest, func.count()).group_by(cohort, c.furthest))]
