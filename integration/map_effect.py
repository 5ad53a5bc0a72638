"""How a map version moved the numbers: conversion and time in stage before and after it took effect.

Everything is aggregated in SQL over the stored journey events (a count per stage, a count per
stage and whole day), so the cost does not grow with the number of events held in memory.
Definitions, the same as the dashboard's: a window covers the stage entries made in it; a record's
furthest stage entered in the window says which stages it reached; conversion of a stage is the
share of records that reached it and also reached the next one; time in stage is the median of
whole days of those entries, an entry still open counted up to now.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import case, func, literal
from sqlmodel import Session, select

from integration.store.models import JourneyEvent
from integration.store.sqlfuncs import whole_days_between
from integration.store.types import UTCDateTime
from mapping import JourneyMap

#: Days on either side of a version's effective date.
WINDOW_DAYS = 30


def _entries(connection_ids: Iterable[int], jmap: JourneyMap, since: datetime,
             until: datetime) -> list[Any]:
    """Conditions selecting the journey-stage entries of these connections made in [since, until)."""
    return [JourneyEvent.connection_id.in_(list(connection_ids)),
            JourneyEvent.to_stage.in_(jmap.stage_keys),
            JourneyEvent.occurred_at >= since, JourneyEvent.occurred_at < until]


def furthest_counts(session: Session, connection_ids: Iterable[int], jmap: JourneyMap,
                    since: datetime, until: datetime) -> dict[int, int]:
    """Records by the position (0 = first stage) of the furthest stage they entered in the window."""
    position = case({key: i for i, key in enumerate(jmap.stage_keys)}, value=JourneyEvent.to_stage)
    per_record = (select(func.max(position).label("furthest"))
                  .where(*_entries(connection_ids, jmap, since, until))
                  .group_by(JourneyEvent.connection_id, JourneyEvent.object, JourneyEvent.crm_id)
                  .subquery())
    query = select(per_record.c.furthest, func.count()).group_by(per_record.c.furthest)
    return {int(furthest): count for furthest, count in session.exec(query)}


def days_histogram(session: Session, connection_ids: Iterable[int], jmap: JourneyMap,
                   since: datetime, until: datetime, now: datetime) -> dict[str, dict[int, int]]:
    """Per stage: how many entries made in the window lasted each whole number of days."""
    days = whole_days_between(JourneyEvent.occurred_at,
                              func.coalesce(JourneyEvent.exited_at, literal(now, UTCDateTime())))
    query = (select(JourneyEvent.to_stage, days, func.count())
             .where(*_entries(connection_ids, jmap, since, until))
             .group_by(JourneyEvent.to_stage, days))
    histogram: dict[str, dict[int, int]] = {}
    for stage, whole, count in session.exec(query):
        histogram.setdefault(stage, {})[int(whole)] = count
    return histogram


def median_of_counts(counts: dict[int, int]) -> float | None:
    """The median of values given as value -> how many times it occurs (None when empty)."""
    total = sum(counts.values())
    if not total:
        return None
    middle, seen, values = ((total - 1) // 2, total // 2), 0, []
    for value in sorted(counts):
        first, seen = seen, seen + counts[value]
        values += [value for index in middle if first <= index < seen]
    return sum(values) / 2


def window_figures(session: Session, connection_ids: Iterable[int], jmap: JourneyMap,
                   since: datetime, until: datetime, now: datetime) -> list[dict[str, Any]]:
    """Per journey stage, in map order: records that reached it, conversion to the next stage
    (None for the last stage or when none reached it) and median days in stage, over the
    stage entries made in [since, until)."""
    connection_ids = list(connection_ids)
    furthest = furthest_counts(session, connection_ids, jmap, since, until)
    histogram = days_histogram(session, connection_ids, jmap, since, until, now)
    keys = jmap.stage_keys
    reached = [sum(n for position, n in furthest.items() if position >= i) for i in range(len(keys))]
    return [{"stage": key, "label": jmap.label(key), "reached": reached[i],
             "conversion": reached[i + 1] / reached[i] if i + 1 < len(keys) and reached[i] else None,
             "entries": sum(histogram.get(key, {}).values()),
             "median_days": median_of_counts(histogram.get(key, {}))}
            for i, key in enumerate(keys)]


def version_effect(session: Session, connection_ids: Iterable[int], jmap: JourneyMap,
                   effective_at: datetime, now: datetime, *, days: int = WINDOW_DAYS) -> dict[str, Any]:
    """Conversion and time in stage in the ``days`` before ``effective_at`` and in the ``days``
    after it (up to now), per stage of ``jmap`` (the stored events follow the map in force)."""
    connection_ids = list(connection_ids)
    window = timedelta(days=days)
    after_end = min(effective_at + window, now)
    before = window_figures(session, connection_ids, jmap, effective_at - window, effective_at, now)
    after = window_figures(session, connection_ids, jmap, effective_at, after_end, now)
    return {"days": days,
            "before": {"since": effective_at - window, "until": effective_at},
            "after": {"since": effective_at, "until": after_end,
                      "days": max(0, (after_end - effective_at).days)},
            "stages": [{"stage": b["stage"], "label": b["label"], "before": b, "after": a}
                       for b, a in zip(before, after)]}
