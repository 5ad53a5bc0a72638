"""How a map version moved the numbers: conversion and time in stage before and after it took effect.

The figures are the dashboard's own (:mod:`integration.journey_stats`, aggregated in SQL), over
two periods: the stage entries made in the ``days`` before the version's effective date, and those
made in the ``days`` after it (up to now). Conversion is the share of the records that reached the
stage before and also reached this one; time in stage is the median of calendar days of the stays
begun in the period, a stay still open counted up to now.

Once both windows have ended (the version is older than ``days``), new data moves its figures
little (stays begun in them that end, or that are still open and grow older), but computing them
reads every stage entry of the 60 days: 14-17 s at a million records on SQLite. They are then
kept a day (:data:`KEPT_FOR`) whatever syncs happen, and carry the moment they were computed
(``as_of``), which the page shows; the worker computes them for the newest versions
(``integration.map_review.warm_versions_effect``), so the history opens from stored figures. A
younger version's figures are computed again as soon as the data changes (its history may still
be arriving).
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
#: How long the figures of a window that has ended are served without computing them again.
KEPT_FOR = timedelta(days=1)


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


def _cached_window(cache: CachedAnalytics, since: datetime, until: datetime, now: datetime,
                   kept: bool) -> dict[str, Any]:
    """:func:`window_figures` and when they were computed (``as_of``), read through the
    connection's analytics answers in the store (``kept``: for a day whatever the data does)."""
    return cache.get("map_effect_window", RecordFilter(since=since, until=until),
                     lambda: {"as_of": now, "stages": window_figures(
                         cache.session, cache.connection_id, cache.jmap, since, until, now)},
                     kept_for=KEPT_FOR if kept else None)


def version_effect(session: Session, connection_ids: Iterable[int], jmap: JourneyMap,
                   effective_at: datetime, now: datetime, *, days: int = WINDOW_DAYS) -> dict[str, Any]:
    """Per connection, per stage of ``jmap`` (the stored events follow the map in force): the
    figures of the ``days`` before ``effective_at`` and of the ``days`` after it, up to now.

    Each connection has its own figures: medians of different books do not add up. The figures
    are kept with the dashboard's answers (:mod:`integration.analytics_cache`): a history page
    seen again before the connection's data changes reads them back instead of computing them."""
    window = timedelta(days=days)
    after_end = min(effective_at + window, now)
    ended = effective_at + window <= now
    connections = []
    for connection_id in connection_ids:
        cache = CachedAnalytics(session, connection_id, jmap)
        before = _cached_window(cache, effective_at - window, effective_at, now, ended)
        # The window's end stays put while it is still running (no entry lies in the future), so
        # the stored answer is found again.
        after = _cached_window(cache, effective_at, effective_at + window, now, ended)
        connections.append({"connection_id": connection_id,
                            "as_of": datetime.fromisoformat(min(before["as_of"], after["as_of"])),
                            "stages": [{"stage": b["stage"], "label": b["label"], "before": b, "after": a}
                                       for b, a in zip(before["stages"], after["stages"])]})
    return {"days": days,
            "before": {"since": effective_at - window, "until": effective_at},
            "after": {"since": effective_at, "until": after_end,
                      "days": max(0, (after_end - effective_at).days)},
            "connections": connections}
