"""The figures of the dashboard and the journeys page for one filter, read through the analytics
cache, and the worker's warm-up of the views people open first after the data changes (the
dashboard, the journeys page, the records page's counts, the map history's figures of the
newest versions, and the workspace page, each as it first opens and as people opened it with
their own period and filters this week)."""
from __future__ import annotations

from datetime import date
from typing import Any, Callable

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
from integration.store.side_by_side import SideBySide
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


#: A page's figures: the name a page knows each by, and its answer's name and parameters in the
#: analytics cache.
Wanted = dict[str, tuple[str, dict[str, Any]]]
#: A part of a page, read on its own: the figures it computes, and how, in one session (given
#: the names of those it is asked for).
Part = tuple[tuple[str, ...], Callable[[Session, list[str]], dict[str, Any]]]
#: The dashboard's figures: the name the page knows each by, and its answer's in the cache.
DASHBOARD = {"funnel": "funnel_report", "days": "time_in_stage_report",
             "outcomes": "outcome_report", "stalled": "stalled_report"}


def dashboard_figures(db: Session, connection_id: int, jmap: JourneyMap, flt: RecordFilter,
                      only: tuple[str, ...] = tuple(DASHBOARD), reads: SideBySide | None = None,
                      extra: dict[str, Callable[[Session], Any]] | None = None) -> dict[str, Any]:
    """Funnel, time in stage, outcomes and stalled counts for ``flt`` (or ``only`` those), and
    what the page reads besides (``extra``: name -> read, never kept). Those not kept in the
    cache are computed side by side with ``reads`` (else one after another)."""
    def funnel_and_outcomes(s: Session, names: list[str]) -> dict[str, Any]:
        paths = shared_paths(s, connection_id, flt)  # the funnel's and the outcomes' one read
        reports = {"funnel": lambda: funnel_report(s, connection_id, jmap, flt, paths),
                   "outcomes": lambda: outcome_report(s, connection_id, jmap, flt, paths)}
        return {name: reports[name]() for name in names}

    # the slowest first: it runs in the request's own thread
    parts: list[Part] = [
        (("days",), lambda s, _: {"days": time_in_stage_report(s, connection_id, jmap, flt)}),
        (("funnel", "outcomes"), funnel_and_outcomes),
        (("stalled",), lambda s, _: {"stalled": stalled_report(s, connection_id, flt)}),
        *(((name,), lambda s, _, name=name, read=read: {name: read(s)})
          for name, read in (extra or {}).items())]
    wanted = {name: (DASHBOARD[name], {}) for name in only}
    return _side_by_side(db, CachedAnalytics(db, connection_id, jmap), flt, wanted,
                         [*(extra or {})], parts, reads)


def journeys_figures(db: Session, connection_id: int, jmap: JourneyMap, flt: RecordFilter,
                     unit: str = "month", reads: SideBySide | None = None) -> dict[str, Any]:
    """Trends by ``unit`` and cohorts (over the last year unless the period starts earlier), and
    skipped and repeated stages and common paths over the period, for ``flt``; those not kept in
    the cache computed side by side with ``reads`` (else one after another)."""
    year = last_year(flt)
    parts: list[Part] = [
        (("trends",), lambda s, _: {"trends": trend_report(s, connection_id, jmap, year, unit)}),
        (("cohorts",), lambda s, _: {"cohorts": cohort_report(s, connection_id, jmap, year)}),
        (("journeys",), lambda s, _: {"journeys": journey_report(s, connection_id, jmap, flt,
                                                                 PAGE_PATHS)})]
    wanted = {"trends": ("trends", {"unit": unit}), "cohorts": ("cohorts", {}),
              "journeys": ("journeys", {"top": PAGE_PATHS})}
    figures = _side_by_side(db, CachedAnalytics(db, connection_id, jmap), flt, wanted, [], parts,
                            reads)
    return {**figures, "since": year.since}


def _side_by_side(db: Session, cache: CachedAnalytics, flt: RecordFilter, wanted: Wanted,
                  unkept: list[str], parts: list[Part], reads: SideBySide | None) -> dict[str, Any]:
    """The ``wanted`` figures found in ``cache``, the others (and the ``unkept`` ones) computed
    by their ``parts`` side by side, and the wanted ones kept."""
    figures = {name: cache.stored(key, flt, **params) for name, (key, params) in wanted.items()}
    missing = {name for name, figure in figures.items() if figure is None} | set(unkept)
    todo = [(part, [name for name in names if name in missing])
            for names, part in parts if missing.intersection(names)]
    to_read = [lambda s, part=part, names=names: part(s, names) for part, names in todo]
    for computed in reads.run(db, to_read) if reads else [read(db) for read in to_read]:
        for name, figure in computed.items():
            figures[name] = figure if name in unkept else cache.put(
                wanted[name][0], flt, figure, **wanted[name][1])
    return figures


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
