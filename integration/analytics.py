"""Journey analytics over stored events: funnel, time in stage, stalled records.

Filters (crm, object, persona, owner, pipeline, country, lead source, stage, stalled, search)
apply to the stored records; the funnel and time in stage then read, in one query joined to those
records, only the events that entered a stage within the period. The record list and the stalled
counts take the period as the date the record entered its current stage.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from itertools import groupby
from typing import Any, Iterator

from sqlalchemy import func, or_
from sqlmodel import Session, select

from integration.store.models import JourneyEvent, RecordState
from integration.store.types import utcnow
from mapping import JourneyMap
from mapping.analytics import funnel, time_in_stage
from mapping.timeline import TimelineSpan
from mapping.timeutil import whole_days

#: The filters a view offers to narrow its records, each matched exactly against a column.
FILTER_NAMES = ("crm", "object", "pipeline", "persona", "owner", "country", "lead_source")
#: What a search matches, case-insensitively, besides the record's name: the person's e-mail
#: address and the company (Salesforce account or lead company, HubSpot contact company).
SEARCH_COLUMNS = ("email", "company")
#: Rows fetched at a time when a list is streamed (CSV export), so memory stays flat.
STREAM_CHUNK = 500


@dataclass(frozen=True)
class RecordFilter:
    """Which stored records a view covers; None means any.

    ``since``/``until`` bound the period (``until`` exclusive); ``q`` is a search text.
    """

    object: str | None = None
    persona: str | None = None
    owner: str | None = None
    pipeline: str | None = None
    stage: str | None = None
    stalled: bool | None = None
    crm: str | None = None
    country: str | None = None
    lead_source: str | None = None
    q: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Any) -> Any:
        """``query`` on RecordState narrowed to the matching records (the period aside)."""
        for name in (*FILTER_NAMES, "stage", "stalled"):
            value = getattr(self, name)
            if value is not None:
                query = query.where(filter_column(name) == value)
        if self.q:
            texts = [RecordState.name, *(getattr(RecordState, name) for name in SEARCH_COLUMNS)]
            needle = self.q.lower()
            query = query.where(or_(*(func.lower(text).contains(needle, autoescape=True)
                                      for text in texts)))
        return query

    def in_period(self, column: Any) -> list[Any]:
        """SQL conditions putting ``column`` (a date and time) inside the period."""
        conditions = []
        if self.since is not None:
            conditions.append(column >= self.since)
        if self.until is not None:
            conditions.append(column < self.until)
        return conditions


def filter_column(name: str) -> Any:
    """The column a filter (or ``stage``/``stalled``) compares with its value."""
    return RecordState.owner_id if name == "owner" else getattr(RecordState, name)


def filter_values(session: Session, connection_id: int, name: str, limit: int = 500) -> list[str]:
    """The distinct values the connection's records hold for filter ``name`` (at most ``limit``)."""
    column = filter_column(name)
    query = (select(column).distinct().where(RecordState.connection_id == connection_id,
                                             column.is_not(None))
             .order_by(column).limit(limit))
    return [value for value in session.exec(query) if value]


def _states_query(connection_id: int, flt: RecordFilter, order: Any) -> Any:
    query = flt.apply(select(RecordState).where(RecordState.connection_id == connection_id,
                                                *flt.in_period(RecordState.entered_at)))
    return query.order_by(*(order if order is not None else (RecordState.id,)))


def filtered_states(session: Session, connection_id: int, flt: RecordFilter, *,
                    order: Any = None, limit: int | None = None, offset: int = 0) -> list[RecordState]:
    """Stored records matching ``flt`` whose current stage was entered within its period."""
    query = _states_query(connection_id, flt, order)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(session.exec(query))


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


def timelines(session: Session, connection_id: int, jmap: JourneyMap, flt: RecordFilter,
              now: datetime | None = None) -> list[list[TimelineSpan]]:
    """Every matching record's stage entries within the period, one list per record.

    The period bounds the event's own date (when the record entered that stage), not the record's
    current stage; records with no entry in the period have no timeline.
    """
    now = now or utcnow()
    records = flt.apply(select(RecordState.id).where(
        RecordState.connection_id == connection_id, RecordState.object == JourneyEvent.object,
        RecordState.crm_id == JourneyEvent.crm_id))
    events = session.exec(
        select(JourneyEvent).where(JourneyEvent.connection_id == connection_id,
                                   *flt.in_period(JourneyEvent.occurred_at), records.exists())
        .order_by(JourneyEvent.object, JourneyEvent.crm_id, JourneyEvent.seq)
        .execution_options(yield_per=STREAM_CHUNK))
    return [spans_from_events(list(group), jmap, now)
            for _, group in groupby(events, key=lambda e: (e.object, e.crm_id))]


def funnel_report(session: Session, connection_id: int, jmap: JourneyMap,
                  flt: RecordFilter) -> list[dict[str, Any]]:
    """Records reaching each journey stage and stage-to-stage conversion, over stage entries in
    the period (see :func:`mapping.analytics.funnel` for "reached" and "entered")."""
    return funnel(timelines(session, connection_id, jmap, flt), jmap)


def time_in_stage_report(session: Session, connection_id: int, jmap: JourneyMap,
                         flt: RecordFilter) -> list[dict[str, Any]]:
    """Per stage: median and quartiles of days spent in the stage entries made in the period,
    against the expected days."""
    return time_in_stage(timelines(session, connection_id, jmap, flt), jmap)


def stalled_report(session: Session, connection_id: int, flt: RecordFilter) -> dict[str, Any]:
    """Stalled records counted by stage and by owner, counted in SQL."""
    stalled = replace(flt, stalled=True)

    def counts(column: Any) -> dict[str, int]:
        query = stalled.apply(select(column, func.count()).where(
            RecordState.connection_id == connection_id,
            *stalled.in_period(RecordState.entered_at))).group_by(column)
        return {key if key is not None else "(none)": n for key, n in session.exec(query)}

    by_stage = counts(RecordState.stage)
    return {"total": sum(by_stage.values()), "by_stage": by_stage,
            "by_owner": counts(RecordState.owner_id)}
