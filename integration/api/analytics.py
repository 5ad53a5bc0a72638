"""Analytics: funnel, time in stage, stalled by stage and owner."""
from __future__ import annotations

from flask import jsonify

from integration.analytics import funnel_report, stalled_report, time_in_stage_report
from integration.api import bp
from integration.api.auth import require_tenant
from integration.api.helpers import caller_connection, services
from integration.api.records import record_filter
from integration.sync.maps import connection_map


@bp.get("/connections/<ref>/analytics/funnel")
@require_tenant
def analytics_funnel(ref: str):
    """Records reaching each journey stage, with stage-to-stage conversion."""
    with services().session() as session:
        conn = caller_connection(session, ref)
        jmap, _ = connection_map(session, conn.id)
        return jsonify({"stages": funnel_report(session, conn.id, jmap, record_filter())})


@bp.get("/connections/<ref>/analytics/time-in-stage")
@require_tenant
def analytics_time_in_stage(ref: str):
    """Days in each stage: median and percentiles against expected days."""
    with services().session() as session:
        conn = caller_connection(session, ref)
        jmap, _ = connection_map(session, conn.id)
        return jsonify({"stages": time_in_stage_report(session, conn.id, jmap, record_filter())})


@bp.get("/connections/<ref>/analytics/stalled")
@require_tenant
def analytics_stalled(ref: str):
    """Stalled records by stage and by owner."""
    with services().session() as session:
        conn = caller_connection(session, ref)
        return jsonify(stalled_report(session, conn.id, record_filter()))
