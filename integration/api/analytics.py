"""Analytics: funnel, time in stage, stage KPIs against targets, outcomes, trends, cohorts,
journeys (skipped and repeated stages, common paths), stalled by stage and owner.

Every operation takes the period (``from``/``to``: the dates records *entered* stages) and the
filters of the record list; the figures are aggregated in the database (``integration/journey_stats.py``).
"""
from __future__ import annotations

from typing import Any, Callable

from flask import jsonify

from integration import journey_stats
from integration.analytics import stalled_report
from integration.analytics_cache import CachedAnalytics
from integration.analytics_views import PAGE_PATHS, dashboard_figures
from integration.api import bp
from integration.api.auth import require_tenant
from integration.api.helpers import caller_connection, choice_arg, int_arg, record_filter, services
from integration.store.owners import owner_names
from integration.sync.map_in_force import connection_map
from mapping.analytics import FUNNEL_TYPES, funnel_of_type, kpi_rows

#: Trend buckets.
UNITS = ("week", "month")
#: How many common paths the journeys answer may list, and its default (the page's).
MAX_PATHS, DEFAULT_PATHS = journey_stats.MAX_PATHS, PAGE_PATHS


def _report(ref: str, build: Callable[..., Any], key: str | None = "stages",
            shape: Callable[[Any], Any] | None = None, **params: Any):
    """Answer ``build(session, connection_id, map, filter)`` for the caller's connection, kept in
    the analytics cache until the connection's data, map or day change (``params`` are the
    operation's own parameters, part of the answer's key; ``shape`` adds to the cached answer)."""
    flt = record_filter()
    with services().session() as session:
        conn = caller_connection(session, ref)
        jmap, _ = connection_map(session, conn.id)
        cache = CachedAnalytics(session, conn.id, jmap)
        result = cache.get(build.__name__, flt, lambda: build(session, conn.id, jmap, flt), **params)
        result = shape(result) if shape else result
        return jsonify({key: result} if key else result)


def funnel_type_arg() -> str | None:
    """The ``funnel`` query parameter (a funnel type, see ``FUNNEL_TYPES``), None when absent."""
    return choice_arg("funnel", list(FUNNEL_TYPES))


@bp.get("/connections/<ref>/analytics/funnel")
@require_tenant
def analytics_funnel(ref: str):
    """Records reaching each journey stage, in three funnel types, over stage entries in the period.

    Only the stage entries (journey events) made between ``from`` and ``to`` count. Per stage:
    ``reached`` (furthest stage entered is this one or later), ``entered`` (HubSpot's "any
    stages": entered this stage, whatever the order) and ``strict`` (HubSpot's "all stages":
    entered the first stage and each stage up to this one in order), each with its conversion
    from the previous stage (``conversion``, ``entered_conversion``, ``strict_conversion``).
    ``funnel`` (reached, any or strict) copies that type's figures to ``count`` and
    ``count_conversion``."""
    kind = funnel_type_arg()
    return _report(ref, journey_stats.funnel_report,
                   shape=(lambda rows: funnel_of_type(rows, kind)) if kind else None)


@bp.get("/connections/<ref>/analytics/time-in-stage")
@require_tenant
def analytics_time_in_stage(ref: str):
    """Days in each stage, median and percentiles against expected days, for stays begun in the period.

    A stay counts when the record entered the stage between ``from`` and ``to``; its days are
    calendar days (UTC) from the day it began to the day of its exit, or to today while the record
    is still in the stage. Percentiles are
    interpolated between the nearest ranks (as PostgreSQL's percentile_cont)."""
    return _report(ref, journey_stats.time_in_stage_report)


@bp.get("/connections/<ref>/analytics/kpis")
@require_tenant
def analytics_kpis(ref: str):
    """Each stage's owner, goal, and actual conversion and median days against the map's targets.

    ``conversion`` is the funnel's (records that reached the next stage over records that reached
    this one, stage entries in the period); ``median_days`` the time-in-stage median of stays begun
    in the period; ``*_missed`` is true when the actual figure falls short of the target."""
    def kpis(session, cid, jmap, flt):
        # the dashboard's own answers, so KPIs after the dashboard (or the worker) cost nothing
        figures = dashboard_figures(session, cid, jmap, flt, only=("funnel", "days"),
                                    reads=services().reads)
        return kpi_rows(figures["funnel"], figures["days"], jmap)
    return _report(ref, kpis)


@bp.get("/connections/<ref>/analytics/outcomes")
@require_tenant
def analytics_outcomes(ref: str):
    """How the stays begun in the period ended, per stage: moved on, moved back, each exit
    (``exits``: lost, converted...), still there, or other."""
    return _report(ref, journey_stats.outcome_report)


@bp.get("/connections/<ref>/analytics/trends")
@require_tenant
def analytics_trends(ref: str):
    """Per week or month (``unit``, the bucket a stay began in) and stage: stays begun, the share
    that moved on to a later stage so far, and their median days.

    Without ``from`` the trend covers the last 365 days."""
    unit = choice_arg("unit", list(UNITS)) or "month"

    def trends(session, cid, jmap, flt):
        return journey_stats.trend_report(session, cid, jmap, journey_stats.last_year(flt), unit)
    return _report(ref, trends, key=None, unit=unit)


@bp.get("/connections/<ref>/analytics/cohorts")
@require_tenant
def analytics_cohorts(ref: str):
    """Records by the month they entered their first journey stage (that month in the period),
    and how many of each month reached each stage by now.

    Without ``from`` the cohorts cover the last 365 days."""
    def cohorts(session, cid, jmap, flt):
        return journey_stats.cohort_report(session, cid, jmap, journey_stats.last_year(flt))
    return _report(ref, cohorts, key="cohorts")


@bp.get("/connections/<ref>/analytics/journeys")
@require_tenant
def analytics_journeys(ref: str):
    """Stages skipped (forward moves jumping over them), stages repeated (backward moves into
    them) and the ``paths`` most common sequences of stages, over stays begun in the period."""
    top = int_arg("paths", DEFAULT_PATHS, low=1, high=MAX_PATHS)

    def journeys(session, cid, jmap, flt):
        return journey_stats.journey_report(session, cid, jmap, flt, top)
    return _report(ref, journeys, key=None, top=top)


@bp.get("/connections/<ref>/analytics/stalled")
@require_tenant
def analytics_stalled(ref: str):
    """Stalled records by stage and by owner, for records that entered their stage in the period
    (``owner_names`` names the owner ids)."""
    def stalled(session, cid, _map, flt):
        found = stalled_report(session, cid, flt)
        return {**found, "owner_names": owner_names(session, cid, found["by_owner"])}
    return _report(ref, stalled, key=None)
