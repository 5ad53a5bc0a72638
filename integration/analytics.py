"""Journey analytics over stored events: funnel, time in stage, stalled records.

Filters (object, persona, owner, pipeline, stage, stalled) apply to the records first; events
are then read for those records only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlmodel import Session, select

from integration.store.models import JourneyEvent, RecordState
from integration.store.types import utcnow
from mapping import JourneyMap
from mapping.analytics import funnel, time_in_stage
from mapping.timeline import TimelineSpan
from mapping.timeutil import whole_days


@dataclass(frozen=True)
class RecordFilter:
    """Which stored records a view covers; None means any."""

    object: str | None = None
    persona: str | None = None
    owner: str | None = None
    pipeline: str | None = None
    stage: str | None = None
    stalled: bool | None = None

    def apply(self, query: Any) -> Any:
        for name in ("object", "persona", "pipeline", "stage", "stalled"):
            value = getattr(self, name)
            if value is not None:
                query = query.where(getattr(RecordState, name) == value)
        if self.owner is not None:
            query = query.where(RecordState.owner_id == self.owner)
        return query


def filtered_states(session: Session, connection_id: int, flt: RecordFilter, *,
                    order: Any = None, limit: int | None = None, offset: int = 0) -> list[RecordState]:
    """Stored records matching ``flt``."""
    query = flt.apply(select(RecordState).where(RecordState.connection_id == connection_id))
    query = query.order_by(*(order if order is not None else (RecordState.id,)))
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
    """Every matching record's timeline."""
    now = now or utcnow()
    keys = {(r.object, r.crm_id) for r in filtered_states(session, connection_id, flt)}
    events = session.exec(select(JourneyEvent).where(JourneyEvent.connection_id == connection_id)
                          .order_by(JourneyEvent.object, JourneyEvent.crm_id, JourneyEvent.seq))
    result = []
    for key, group in groupby(events, key=lambda e: (e.object, e.crm_id)):
        if key in keys:
            result.append(spans_from_events(list(group), jmap, now))
    return result


def funnel_report(session: Session, connection_id: int, jmap: JourneyMap,
                  flt: RecordFilter) -> list[dict[str, Any]]:
    """Records reaching each journey stage and stage-to-stage conversion."""
    return funnel(timelines(session, connection_id, jmap, flt), jmap)


def time_in_stage_report(session: Session, connection_id: int, jmap: JourneyMap,
                         flt: RecordFilter) -> list[dict[str, Any]]:
    """Per stage: median and quartiles of days spent, against the expected days."""
    return time_in_stage(timelines(session, connection_id, jmap, flt), jmap)


def stalled_report(session: Session, connection_id: int, flt: RecordFilter) -> dict[str, Any]:
    """Stalled records counted by stage and by owner."""
    rows = filtered_states(session, connection_id,
                           RecordFilter(**{**flt.__dict__, "stalled": True}))
    by_stage: dict[str, int] = {}
    by_owner: dict[str, int] = {}
    for row in rows:
        by_stage[row.stage] = by_stage.get(row.stage, 0) + 1
        owner = row.owner_id or "(none)"
        by_owner[owner] = by_owner.get(owner, 0) + 1
    return {"total": len(rows), "by_stage": by_stage, "by_owner": by_owner}
