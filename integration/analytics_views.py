"""The figures of the dashboard and the journeys page for one filter, read through the analytics
cache, and the worker's warm-up of the views people open first after the data changes (the
dashboard, the journeys page, the records page's counts, the map history's figures of the
newest versions, and the workspace page, each as it first opens and as people opened it with
their own period and filters this week)."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from integration.analytics import RecordFilter, stalled_report
from integration.analytics_cache import CachedAnalytics, prune
from integration.journey_stats import (cohort_report, funnel_report, journey_report, last_year,
                                       outcome_report, shared_paths, time_in_stage_report,
                                       trend_report)
from integration.map_review import warm_versions_effect
from integration.people import warm_workspace
from integration.record_pages import FIRST_COUNTS, cached_count
from integration.services import Services
from integration.store import opened_views
from integration.store.models import Connection
from integration.store.types import utcnow
from integration.sync.map_in_force import connection_map
from integration.view_args import FilterError, view_filter
from mapping import JourneyMap

#: Common paths the journeys page lists.
PAGE_PATHS = 10
#: The views computed after every change of a connection's data: the pages as they first open
#: (all time, no filter; trends by month).
WARM_VIEWS = (RecordFilter(),)


def dashboard_figures(db: Session, connection_id: int, jmap: JourneyMap, flt: RecordFilter,
                      only: tuple[str, ...] = ("funnel", "days", "outcomes", "stalled")) -> dict[str, Any]:
    """Funnel, time in stage, outcomes and stalled counts for ``flt`` (or ``only`` those)."""
    cache = CachedAnalytics(db, connection_id, jmap)
    paths = shared_paths(db, connection_id, flt)  # the funnel's and the outcomes' one read
    answers = {
        "funnel": ("funnel_report", lambda: funnel_report(db, connection_id, jmap, flt, paths)),
        "days": ("time_in_stage_report", lambda: time_in_stage_report(db, connection_id, jmap, flt)),
        "outcomes": ("outcome_report", lambda: outcome_report(db, connection_id, jmap, flt, paths)),
        "stalled": ("stalled_report", lambda: stalled_report(db, connection_id, flt)),
    }
    return {name: cache.get(answers[name][0], flt, answers[name][1]) for name in only}


def journeys_figures(db: Session, connection_id: int, jmap: JourneyMap, flt: RecordFilter,
                     unit: str = "month") -> dict[str, Any]:
    """Trends by ``unit`` and cohorts (over the last year unless the period starts earlier), and
    skipped and repeated stages and common paths over the period, for ``flt``."""
    cache = CachedAnalytics(db, connection_id, jmap)
    year = last_year(flt)
    return {
        "trends": cache.get("trends", flt, lambda: trend_report(db, connection_id, jmap, year, unit),
                            unit=unit),
        "cohorts": cache.get("cohorts", flt, lambda: cohort_report(db, connection_id, jmap, year)),
        "journeys": cache.get("journeys", flt, lambda: journey_report(
            db, connection_id, jmap, flt, PAGE_PATHS), top=PAGE_PATHS),
        "since": year.since,
    }


def warm_analytics(services: Services, connection_id: int) -> None:
    """Compute the first-opened views of the connection's pages, and the views people opened
    with filters of their own this week (:mod:`integration.store.opened_views`), so they open
    from the cache; forget answers nobody asked for in a week.

    Views already computed for the current data are only read."""
    with services.session() as db:
        conn = db.get(Connection, connection_id)
        if conn is None:
            return
        prune(db, connection_id)
        opened_views.prune(db, conn.tenant_id)
        jmap, _ = connection_map(db, connection_id)
        for flt in WARM_VIEWS:
            dashboard_figures(db, connection_id, jmap, flt)
            journeys_figures(db, connection_id, jmap, flt)
        for page, args, flt in opened(db, conn.tenant_id, connection_id):
            if page == "dashboard":
                dashboard_figures(db, connection_id, jmap, flt)
            else:
                journeys_figures(db, connection_id, jmap, flt, args.get("unit", "month"))
        cache = CachedAnalytics(db, connection_id, jmap)
        for flt in FIRST_COUNTS:  # the records page as it first opens
            cached_count(cache, flt)
        # The map history opens on the version in force, with its before/after figures; older
        # versions' figures are kept a day, computed here when older than that.
        warm_versions_effect(db, connection_id)
        # the connection's new data changes the workspace's answers too
        warm_workspace(db, conn.tenant_id, [flt for _, _, flt in opened(db, conn.tenant_id, None)])


def opened(db: Session, tenant_id: int, connection_id: int | None,
           today: date | None = None) -> list[tuple[str, dict[str, str], RecordFilter]]:
    """The views of the connection's pages (None: the workspace page) opened this week, the most
    recent first, as (page, query arguments, the filter they choose today: "last 90 days" is
    warmed for the day it is warmed on). A view whose arguments no longer make a view is
    forgotten."""
    views = []
    for view in opened_views.recent(db, tenant_id, connection_id):
        try:
            views.append((view.page, dict(view.args), view_filter(view.args, today or utcnow().date())))
        except FilterError:
            opened_views.forget(db, view)
    return views
