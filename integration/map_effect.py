"""How a map version moved the numbers: conversion and time in stage before and after it took effect.

The figures are the dashboard's own (:mod:`integration.journey_stats`, aggregated in SQL), over
two periods: the stage entries made in the ``days`` before the version's effective date, and those
made in the ``days`` after it (up to now). Conversion is the share of the records that reached the
stage before and also reached this one; time in stage is the median of whole days of the stays
begun in the period, a stay still open counted up to now.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlmodel import Session

from integration.analytics import RecordFilter
from integration.analytics_cache import CachedAnalytics
from integration.journey_stats import funnel_report, time_in_stage_report
from mapping import JourneyMap

#: Days on either side of a version's effective date.
WINDOW_DAYS = 30


def window_figures(session: Session, connection_id: int, jmap: JourneyMap, since: datetime,
                   until: datetime, now: datetime) -> list[dict[str, Any]]:
    """Per journey stage, in map order: records that reached it, conversion from the stage before
    (None for the first stage or when none reached it), stays begun and their median days, over
    the stage entries one connection made in [since, until)."""
    period = RecordFilter(since=since, until=until)
    funnel = funnel_report(session, connection_id, jmap, period)
    days = time_in_stage_report(session, connection_id, jmap, period, now)
    return [{"stage": f["stage"], "label": f["label"], "reached": f["reached"],
             "conversion": f["conversion"], "stays": d["count"], "median_days": d["median"]}
            for f, d in zip(funnel, days)]


def _cached_window(cache: CachedAnalytics, since: datetime, until: datetime,
                   now: datetime) -> list[dict[str, Any]]:
    """:func:`window_figures` read through the connection's analytics answers in the store."""
    return cache.get("map_effect_window", RecordFilter(since=since, until=until),
                     lambda: window_figures(cache.session, cache.connection_id, cache.jmap,
                                            since, until, now))


def version_effect(session: Session, connection_ids: Iterable[int], jmap: JourneyMap,
                   effective_at: datetime, now: datetime, *, days: int = WINDOW_DAYS) -> dict[str, Any]:
    """Per connection, per stage of ``jmap`` (the stored events follow the map in force): the
    figures of the ``days`` before ``effective_at`` and of the ``days`` after it, up to now.

    Each connection has its own figures: medians of different books do not add up. The figures
    are kept with the dashboard's answers (:mod:`integration.analytics_cache`): a history page
    seen again before the connection's data changes reads them back instead of computing them."""
    window = timedelta(days=days)
    after_end = min(effective_at + window, now)
    connections = []
    for connection_id in connection_ids:
        cache = CachedAnalytics(session, connection_id, jmap)
        before = _cached_window(cache, effective_at - window, effective_at, now)
        # The window's end stays put while it is still running (no entry lies in the future), so
        # the stored answer is found again.
        after = _cached_window(cache, effective_at, effective_at + window, now)
        connections.append({"connection_id": connection_id,
                            "stages": [{"stage": b["stage"], "label": b["label"], "before": b, "after": a}
                                       for b, a in zip(before, after)]})
    return {"days": days,
            "before": {"since": effective_at - window, "until": effective_at},
            "after": {"since": effective_at, "until": after_end,
                      "days": max(0, (after_end - effective_at).days)},
            "connections": connections}
