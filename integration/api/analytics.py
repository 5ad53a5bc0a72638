"""Analytics: funnel, time in stage, stalled by stage and owner."""
from __future__ import annotations

from typing import Any, Callable

from flask import jsonify

from integration.analytics import funnel_report, stalled_report, time_in_stage_report
from integration.api import bp
from integration.api.auth import require_tenant
from integration.api.helpers import caller_connection, services
from integration.api.records import record_filter
from integration.store.owners import owner_names
from integration.sync.map_in_force import connection_map


def _report(ref: str, build: Callable[..., Any], key: str | None = "stages"):
    """Run ``build(session, connection_id, map, filter)`` for the caller's connection."""
    with services().session() as session:
        conn = caller_connection(session, ref)
        jmap, _ = connection_map(session, conn.id)
        result = build(session, conn.id, jmap, record_filter())
        return jsonify({key: result} if key else result)


@bp.get("/connections/<ref>/analytics/funnel")
@require_tenant
def analytics_funnel(ref: str):
    """Records reaching each journey stage, with conversion, over stage entries in the period.

    Only the stage entries (journey events) made between ``from`` and ``to`` count: a record
    reached a stage when its furthest stage entered in the period is that one or later."""
    return _report(ref, funnel_report)


@bp.get("/connections/<ref>/analytics/time-in-stage")
@require_tenant
def analytics_time_in_stage(ref: str):
    """Days in each stage, median and percentiles against expected days, for stays begun in the period.

    A stay counts when the record entered the stage between ``from`` and ``to``; its days run to
    its exit, or to now while the record is still in the stage."""
    return _report(ref, time_in_stage_report)


@bp.get("/connections/<ref>/analytics/stalled")
@require_tenant
def analytics_stalled(ref: str):
    """Stalled records by stage and by owner, for records that entered their stage in the period
    (``owner_names`` names the owner ids)."""
    def report(session, cid, _map, flt):
        found = stalled_report(session, cid, flt)
        return {**found, "owner_names": owner_names(session, cid, found["by_owner"])}
    return _report(ref, report, key=None)
