"""Which stored records a view covers (:class:`RecordFilter`), the record lists, stalled counts.

Filters (crm, object, persona, owner, pipeline, country, lead source, stage, stalled, search)
apply to the stored records. The record list and the stalled counts take the period as the date
the record entered its current stage; the journey analytics (``integration/journey_stats.py``)
take it as the date a record entered each stage.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import func, true
from sqlmodel import Session, select

from integration.store.models import CrmOwner, JourneyEvent, RecordState
from integration.store.search import SEARCHED, dense_head, search_condition
from integration.store.sqlfuncs import not_indexed
from mapping import JourneyMap
from mapping.timeline import TimelineSpan
from mapping.timeutil import whole_days

#: The filters a view offers to narrow its records, each matched exactly against a column.
FILTER_NAMES = ("crm", "object", "pipeline", "persona", "owner", "country", "lead_source")
#: Rows fetched at a time when a list is streamed (CSV export), so memory stays flat.
STREAM_CHUNK = 500


@dataclass(frozen=True)
class RecordFilter:
    """Which stored records a view covers; None means any.

    ``since``/``until`` bound the period (``until`` exclusive); ``q`` is a search text.
    ``owner_name`` picks the owners by the name the CRM gives them (any case): a manager knows
    "Dana Reyes", not her id, and one name may stand for several ids (a user in two CRMs).
    ``q_dense`` says the search is a word head most records hold (:func:`plan_search`): the
    records are tested without the word index.
    """

    object: str | None = None
    persona: str | None = None
    owner: str | None = None
    owner_name: str | None = None
    pipeline: str | None = None
    stage: str | None = None
    stalled: bool | None = None
    crm: str | None = None
    country: str | None = None
    lead_source: str | None = None
    q: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    q_dense: bool = False

    def apply(self, query: Any) -> Any:
        """``query`` on RecordState narrowed to the matching records (the period aside)."""
        for name in (*FILTER_NAMES, "stage", "stalled"):
            value = getattr(self, name)
            if value is not None:
                query = query.where(filter_column(name) == value)
        if self.owner_name is not None:
            query = query.where(RecordState.owner_id.in_(
                select(CrmOwner.owner_id).where(
                    CrmOwner.connection_id == RecordState.connection_id,
                    func.lower(CrmOwner.name) == self.owner_name.strip().lower())))
        if self.q:
            texts = [getattr(RecordState, name) for name in SEARCHED]
            query = query.where(search_condition(self.q, RecordState.id, texts, self.q_dense))
        return query

    def narrows_records(self) -> bool:
        """Whether any condition on the record itself (not the period) is set."""
        return any(getattr(self, name) is not None
                   for name in (*FILTER_NAMES, "owner_name", "stage", "stalled")) or bool(self.q)

    def segment(self, segments: Iterable[str], ignoring: Iterable[str] = ()) -> tuple[str, str] | None:
        """The one filter of ``segments`` (names of :data:`FILTER_NAMES`) that is the only
        condition on the records (those ``ignoring`` aside), as (name, value); ``("", "")`` when
        none is set; None when another condition narrows the records, or two of them do. Stores
        that keep a copy of their rows per value of each of ``segments`` answer for the views
        whose filter has one."""
        segments = tuple(segments)
        chosen = [name for name in segments if getattr(self, name) is not None]
        rest = replace(self, **{name: None for name in (*segments, *ignoring)})
        if rest.narrows_records() or len(chosen) > 1:
            return None
        return (chosen[0], getattr(self, chosen[0])) if chosen else ("", "")

    def in_period(self, column: Any) -> list[Any]:
        """SQL conditions putting ``column`` (a date and time) inside the period."""
        conditions = []
        if self.since is not None:
            conditions.append(column >= self.since)
        if self.until is not None:
            conditions.append(column < self.until)
        return conditions


def records_lead(column: Any, flt: RecordFilter) -> Any:
    """``column`` (of the links or the events joined to the filtered records), which SQLite is
    not to look up in an index when ``flt`` narrows the records by a condition on them: the
    matching records then lead the join (found by the filter's index, which holds what the
    analytics read of them), each looking up its events and link. SQLite would rather walk every
    event of the period, or every link of the tenant, and look up each one's record: as many
    look-ups as there are entries (5 to 36 s for "the last 365 days" of one country at a million
    records) instead of matching records."""
    return not_indexed(column) if replace(flt, object=None).narrows_records() else column


def filter_lead(flt: RecordFilter) -> RecordFilter:
    """The filters of ``flt`` that are to lead a read of the records' own columns on SQLite (as
    :func:`records_lead`'s ``flt``): those whose index holds what the reads need
    (``FILTERED_READS``, the entry date among it). Not whether records are stalled: the stalled
    records' period index serves a period better as a range of dates (the last 90 days' stalled
    records, their first page: 118-125 -> 12 ms at 1,000,000 records). Not a stage or a search:
    no index of theirs holds the date."""
    return replace(flt, stalled=None, stage=None, q=None)


def plan_search(session: Session, flt: RecordFilter) -> RecordFilter:
    """``flt`` for the record list's queries (its pages and counts): a word head most records
    hold is then tested on the records in order, which finds a page sooner than reading every
    candidate of the word index and counts them all for less than reading each candidate's row
    (``integration/store/search.py``)."""
    return replace(flt, q_dense=True) if flt.q and dense_head(session, flt.q) else flt


def filter_column(name: str) -> Any:
    """The column a filter (or ``stage``/``stalled``) compares with its value."""
    return RecordState.owner_id if name == "owner" else getattr(RecordState, name)


def filter_values(session: Session, connection_id: int, name: str, limit: int = 500) -> list[str]:
    """The distinct values the connection's records hold for filter ``name`` (at most ``limit``),
    in order."""
    # one more than asked: an empty value may be among them
    values = distinct_values(session, connection_id, filter_column(name), limit + 1)
    return [value for value in values if value][:limit]


def distinct_values(session: Session, connection_id: int, column: Any,
                    limit: int | None = None) -> list[Any]:
    """The distinct non-empty values of ``column`` in the connection's records, in order, by a
    loose index scan of a ``(connection_id, column, ...)`` index: one index probe per value,
    however many records hold each (a DISTINCT would read every record: seconds at a million)."""
    first = select(func.min(column).label("v")).where(RecordState.connection_id == connection_id)
    walk = first.cte("walk", recursive=True)
    after = select(func.min(column)).where(RecordState.connection_id == connection_id,
                                           column > walk.c.v).scalar_subquery()
    walk = walk.union_all(select(after).where(walk.c.v.is_not(None)))
    return list(session.exec(select(walk.c.v).where(walk.c.v.is_not(None)).limit(limit)))


def spans_from_events(events: list[JourneyEvent], jmap: JourneyMap,
                      now: datetime) -> list[TimelineSpan]:
    """A record's stored events as timeline spans (days measured to ``now`` for the open one).

    Events are re-derived on the next sync after a map change; until then a stage the new map no
    longer has keeps its key as its label and never counts as stalled.
    """
    known = set(jmap.stage_keys) | jmap.exit_keys
    spans = []
    for ev in events:
        end = ev.exited_at or now
        days = whole_days(ev.occurred_at, end)
        expected = jmap.expected_days(ev.to_stage)
        label = jmap.label(ev.to_stage) if ev.to_stage in known else ev.to_stage
        spans.append(TimelineSpan(stage=ev.to_stage, label=label,
                                  entered_at=ev.occurred_at, exited_at=ev.exited_at, days=days,
                                  stalled=expected is not None and days > expected,
                                  crm_stages=tuple(ev.crm_stages or ())))
    return spans


def stalled_report(session: Session, connection_id: int, flt: RecordFilter) -> dict[str, Any]:
    """Stalled records counted by stage and by owner, counted in SQL.

    One count per (stage, owner), added up here: that grouping follows the stalled records' index
    (connection, stalled, stage, owner), so the database reads that index alone, in order. Counted
    by owner alone, SQLite walked every record of the connection in the owners' index instead
    (1.6 s at 1,000,000 records against 0.06 s for the stages).
    """
    # A filter whose index holds whether records are stalled (FILTERED_READS) leads, whatever
    # SQLite's statistics say: it would rather read every stalled record of the period and look
    # up each one's row for the filter (one country at 1,000,000 records: 240-400 -> 20 ms), or
    # without statistics walk every record in stage order for the grouping.
    lead = filter_lead(flt)
    stage, owner = (records_lead(c, lead) for c in (RecordState.stage, RecordState.owner_id))
    query = replace(flt, stalled=None).apply(
        select(stage, owner, func.count()).select_from(RecordState).where(
            RecordState.connection_id == connection_id,
            records_lead(RecordState.stalled, lead) == true(),
            *flt.in_period(records_lead(RecordState.entered_at, lead))))
    query = query.group_by(stage, owner)
    by_stage: Counter = Counter()
    by_owner: Counter = Counter()
    for stage, owner, n in session.exec(query):
        by_stage[_named(stage)] += n
        by_owner[_named(owner)] += n
    return {"total": sum(by_stage.values()), "by_stage": dict(sorted(by_stage.items())),
            "by_owner": dict(sorted(by_owner.items()))}


def _named(key: str | None) -> str:
    """A count's key as the report names it: an empty stage or owner is "(none)"."""
    return key if key is not None else "(none)"
