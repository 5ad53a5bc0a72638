"""Record lists sorted by any column, read a page at a time by seeking (keyset paging).

OFFSET paging reads and drops every row before the page, so the last pages of a million records
take seconds. Here a page starts right after the last row of the previous one, named by an opaque
cursor, and every page is read through a ``(connection_id, column, id)`` index (migration 0010).

A sort walks *segments* in order, each read through that index:

- value columns (name, entered date, days over, amount, next best action): the rows holding a
  value, ordered by (column, id), then the rows without one, by id. Empty values come last in
  both directions;
- label columns (stage, persona, owner): ordered by what people read (the map's stage order, the
  persona's label, the owner's name), which no index holds. Their few distinct values are found
  with a loose index scan and put in that order here; each value is then a segment read in id
  order (records without a value last).

Ties are broken by id in the sort's direction, so the order is total and stable.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterator

from sqlalchemy import func, tuple_
from sqlmodel import Session, select

from integration.analytics import (RecordFilter, distinct_values, filter_lead, plan_search,
                                   records_lead)
from integration.analytics_cache import CachedAnalytics
from integration.store.models import RecordState
from integration.store.owners import owner_names
from mapping import JourneyMap
from mapping.model import UNMAPPED

#: Rows read per query when a whole list is streamed (CSV export).
STREAM_PAGE = 500
#: The records no journey stage holds (the records page says how many).
UNPLACED = RecordFilter(stage=UNMAPPED)
#: The counts the records page shows as it first opens (all records or the stalled ones, and
#: the unplaced ones), which the worker keeps computed (``integration.analytics_views``).
FIRST_COUNTS = (RecordFilter(), RecordFilter(stalled=True), UNPLACED)
#: How far a view counts its records unless the exact count is asked for or kept ("1,000+"):
#: past the bulk task limit (``integration.sync.tasks.REQUEST_LIMIT``), so "for all" is offered
#: exactly when it may be used.
COUNT_LIMIT = 1000
#: The analytics answer an exact count is kept under.
COUNT_ANSWER = "record_count"


class CursorError(ValueError):
    """A page cursor that is malformed or belongs to another sort, or whose value is gone."""


@dataclass(frozen=True)
class SortColumn:
    """A column the record list sorts by: ``labelled`` columns sort by a label of their value."""

    column: Any
    descending_first: bool = False
    labelled: bool = False
    #: Turns a cursor's JSON value back into the column's type (value columns).
    parse: Callable[[Any], Any] = lambda value: value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CursorError("not a number")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise CursorError("not a text")
    return value


def _moment(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(_text(value))
    except ValueError:
        raise CursorError("not a date") from None


#: The sort keys of the records page and the API, with the direction each takes by default.
SORTS: dict[str, SortColumn] = {
    "days_over": SortColumn(RecordState.days_over, descending_first=True, parse=_number),
    "entered_at": SortColumn(RecordState.entered_at, parse=_moment),
    "name": SortColumn(RecordState.name, parse=_text),
    "stage": SortColumn(RecordState.stage, labelled=True),
    "persona": SortColumn(RecordState.persona, labelled=True),
    "owner": SortColumn(RecordState.owner_id, labelled=True),
    "next_best_action": SortColumn(RecordState.next_best_action, parse=_text),
    "amount": SortColumn(RecordState.amount, descending_first=True, parse=_number),
}
DIRECTIONS = ("asc", "desc")


def order_clauses(sort: str, descending: bool | None = None) -> tuple[Any, ...]:
    """A plain ORDER BY for ``sort`` (stored values, not labels), id breaking ties."""
    spec = SORTS[sort]
    down = spec.descending_first if descending is None else descending
    return ((spec.column.desc(), RecordState.id.desc()) if down
            else (spec.column, RecordState.id))


@dataclass(frozen=True)
class Segment:
    """Rows of one part of a sort: ``key`` names it in cursors (a label column's value, None for
    rows without one); ``by_value`` orders by the column itself, otherwise by id."""

    key: Any
    condition: Any
    by_value: bool = False


@dataclass(frozen=True)
class Page:
    """A page of records and the cursor of the next page (None on the last)."""

    rows: list[RecordState]
    next: str | None


def encode_cursor(segment: Any, value: Any, row_id: int) -> str:
    """An opaque page cursor: the last row's segment, sort value and id."""
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([segment, value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, Any, int]:
    """The (segment, value, id) of a cursor; raises :class:`CursorError`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        segment, value, row_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise CursorError("not a page cursor of this list") from None
    if isinstance(row_id, bool) or not isinstance(row_id, int):
        raise CursorError("not a page cursor of this list")
    return segment, value, row_id


def label_order(session: Session, connection_id: int, sort: str, jmap: JourneyMap) -> list[str]:
    """A label column's values in the order people read them: stages as the map orders them
    (stages, exits, then anything else), personas by label, owners by name."""
    values = distinct_values(session, connection_id, SORTS[sort].column)
    if sort == "stage":
        known = [*jmap.stage_keys, *(e.key for e in jmap.exits)]
        rank = {key: i for i, key in enumerate(known)}
        return sorted(values, key=lambda v: (rank.get(v, len(rank)), v))
    if sort == "persona":
        return sorted(values, key=lambda v: (_persona_label(jmap, v).lower(), v))
    names = owner_names(session, connection_id, values)
    return sorted(values, key=lambda v: (names.get(v, v).lower(), v))


def _persona_label(jmap: JourneyMap, key: str) -> str:
    try:
        return jmap.persona_label(key)
    except KeyError:
        return key


def segments(session: Session, connection_id: int, sort: str, descending: bool,
             jmap: JourneyMap) -> list[Segment]:
    """The segments ``sort`` walks, in order (see the module docstring)."""
    column = SORTS[sort].column
    if not SORTS[sort].labelled:
        return [Segment("values", column.is_not(None), by_value=True),
                Segment("empty", column.is_(None))]
    values = label_order(session, connection_id, sort, jmap)
    return [*(Segment(v, column == v) for v in (reversed(values) if descending else values)),
            Segment(None, column.is_(None))]


def _seek(spec: SortColumn, segment: Segment, descending: bool, value: Any, row_id: int) -> Any:
    """The condition "after (value, id)" within a segment."""
    if segment.by_value:
        if value is None:
            raise CursorError("no value")
        mark = tuple_(spec.column, RecordState.id)
        after = (spec.parse(value), row_id)
        return mark < tuple_(*after) if descending else mark > tuple_(*after)
    return RecordState.id < row_id if descending else RecordState.id > row_id


def _in_period(flt: RecordFilter) -> list[Any]:
    """The period's conditions on the records, on SQLite left to the filter's index when one
    narrows them: each of those indexes holds the entry date (``FILTERED_READS``), so SQLite then
    reads the filter's records in the period from it and looks up those alone. Left to choose, it
    estimates a two-sided range of dates at a sixty-fourth of the records and walks every record
    of the period instead (one country over a year at 1,000,000 records: 722,000 look-ups for
    91,000 matches, its first page of records 1.6-2.2 s against 0.2 s)."""
    return flt.in_period(records_lead(RecordState.entered_at, filter_lead(flt)))


def _segment_query(connection_id: int, flt: RecordFilter, spec: SortColumn, segment: Segment,
                   descending: bool) -> Any:
    query = flt.apply(select(RecordState).where(
        RecordState.connection_id == connection_id, *_in_period(flt), segment.condition))
    order = [spec.column] if segment.by_value else []
    return query.order_by(*((c.desc() for c in [*order, RecordState.id]) if descending
                            else [*order, RecordState.id]))


def read_page(session: Session, connection_id: int, flt: RecordFilter, jmap: JourneyMap, *,
              sort: str, descending: bool | None = None, limit: int,
              after: str | None = None) -> Page:
    """Up to ``limit`` records matching ``flt`` in ``sort`` order, after the cursor ``after``.

    Raises :class:`CursorError` for a cursor that is not one of this sort's.
    """
    spec = SORTS[sort]
    down = spec.descending_first if descending is None else descending
    walk = segments(session, connection_id, sort, down, jmap)
    flt = plan_search(session, flt)
    start, seek = 0, None
    if after is not None:
        key, value, row_id = decode_cursor(after)
        keys = [s.key for s in walk]
        if key not in keys:
            raise CursorError("the list changed under this cursor; start from the first page")
        start = keys.index(key)
        seek = _seek(spec, walk[start], down, value, row_id)
    rows: list[tuple[Segment, RecordState]] = []
    for index in range(start, len(walk)):
        segment = walk[index]
        query = _segment_query(connection_id, flt, spec, segment, down)
        if index == start and seek is not None:
            query = query.where(seek)
        # one row more than the page holds says whether a next page exists
        rows += [(segment, row) for row in session.exec(query.limit(limit + 1 - len(rows)))]
        if len(rows) > limit:
            break
    page = rows[:limit]
    more = len(rows) > limit
    if not more or not page:
        return Page([row for _, row in page], None)
    segment, last = page[-1]
    value = getattr(last, spec.column.key) if segment.by_value else None
    return Page([row for _, row in page], encode_cursor(segment.key, value, last.id))


def stream_sorted(session: Session, connection_id: int, flt: RecordFilter, jmap: JourneyMap, *,
                  sort: str, descending: bool | None = None) -> Iterator[RecordState]:
    """Every record matching ``flt`` in ``sort`` order, read a page at a time (memory stays flat)."""
    after = None
    while True:
        page = read_page(session, connection_id, flt, jmap, sort=sort, descending=descending,
                         limit=STREAM_PAGE, after=after)
        yield from page.rows
        session.expunge_all()  # rows already sent need not stay in the session
        if page.next is None:
            return
        after = page.next


def _matching(connection_id: int, flt: RecordFilter, *columns: Any) -> Any:
    return flt.apply(select(*columns).select_from(RecordState).where(
        RecordState.connection_id == connection_id, *_in_period(flt)))


def count_records(session: Session, connection_id: int, flt: RecordFilter) -> int:
    """How many records match ``flt`` (every match is read)."""
    return session.exec(_matching(connection_id, plan_search(session, flt), func.count())).one()


@dataclass(frozen=True)
class Count:
    """How many records a view holds: ``value`` exactly, or (``exact`` false) more than ``value``."""

    value: int
    exact: bool

    def __str__(self) -> str:
        """As the pages show it: ``12,345``, or ``1,000+`` when there are more."""
        return f"{self.value:,}" if self.exact else f"{self.value:,}+"


def count_upto(session: Session, connection_id: int, flt: RecordFilter, limit: int) -> Count:
    """How many records match ``flt``, read no further than the ``limit`` + 1st match: the cost
    is that of reaching those matches, not of reading them all (a million for a common search)."""
    first = _matching(connection_id, plan_search(session, flt), RecordState.id).limit(limit + 1).subquery()
    found = session.exec(select(func.count()).select_from(first)).one()
    return Count(min(found, limit), exact=found <= limit)


def cached_count(cache: CachedAnalytics, flt: RecordFilter) -> int:
    """:func:`count_records` kept with the connection's analytics answers until its data changes
    (the worker keeps :data:`FIRST_COUNTS` computed)."""
    return cache.get(COUNT_ANSWER, flt, lambda: count_records(cache.session, cache.connection_id, flt))


def view_count(cache: CachedAnalytics, flt: RecordFilter, *, exact: bool = False,
               first_page: Page | None = None) -> Count:
    """The count a records view shows: the rows of its ``first_page`` when that is its last (no
    query: a view that few records match has read them all already); the exact count when asked
    for (computed once and kept) or already kept; otherwise counted up to :data:`COUNT_LIMIT`, so
    the first page of any view answers without reading every match."""
    if first_page is not None and first_page.next is None:
        return Count(len(first_page.rows), exact=True)
    if exact:
        return Count(cached_count(cache, flt), exact=True)
    kept = cache.stored(COUNT_ANSWER, flt)
    if kept is not None:
        return Count(kept, exact=True)
    counted = count_upto(cache.session, cache.connection_id, flt, COUNT_LIMIT)
    if counted.exact:  # every match was read (a view few records match): kept like an exact count
        cache.get(COUNT_ANSWER, flt, lambda: counted.value)
    return counted


def matching_ids(session: Session, connection_id: int, flt: RecordFilter, *, limit: int) -> list[int]:
    """The row ids of at most ``limit`` records matching ``flt``."""
    return list(session.exec(_matching(connection_id, plan_search(session, flt), RecordState.id)
                             .limit(limit)))
