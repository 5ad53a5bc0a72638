"""The journey dashboard (stage KPIs against targets, funnel, outcomes, time in stage, stalled
records), the journeys page (trends, cohorts, skipped and repeated stages, common paths), and the
record page. Both analytics pages take the shared period and filter bar; bars drill down to the
records page with the same choice."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import abort, render_template, request

from integration.analytics_views import dashboard_figures, journeys_figures
from integration.api.analytics import UNITS
from integration.api.helpers import services
from integration.journey_view import record_journey
from integration.store import opened_views
from integration.store.owners import owner_names
from integration.store.types import utcnow
from integration.sync.map_in_force import connection_map
from integration.ui import bp
from integration.ui.access import page_connection, signed_in
from integration.ui.charts import FUNNEL_TYPES, count_chart, days_chart, funnel_chart, timeline_chart
from integration.ui.filters import FilterBar, filter_bar
from integration.ui.records_page import COLUMNS, first_rows
from integration.view_args import FilterError
from mapping.analytics import kpi_rows

#: Stalled records the dashboard lists (the top of the records page's stalled list).
STALLED_ROWS = 10


@bp.get("/connections/<int:connection_id>/dashboard")
@signed_in
def dashboard(connection_id: int):
    """Stage KPIs, funnel, outcomes, time in stage against expected days, and the stalled
    records most days over (the records page's list, which the dashboard links to)."""
    kind = request.args.get("funnel", "reached")
    if kind not in FUNNEL_TYPES:
        abort(400, f"Funnel type: one of {', '.join(FUNNEL_TYPES)}.")
    with services().session() as db:
        conn = page_connection(db, connection_id)
        jmap, version = connection_map(db, conn.id)
        bar = _bar(db, conn.id, jmap)
        flt = bar.flt
        figures = dashboard_figures(db, conn.id, jmap, flt, reads=services().reads, extra={
            "rows": lambda s: first_rows(s, conn.id, replace(flt, stalled=True), jmap, STALLED_ROWS)})
        opened_views.note_opened(db, conn.tenant_id, conn.id, "dashboard", bar.params())
        funnel, days, outcomes, stalled, rows = (
            figures[k] for k in ("funnel", "days", "outcomes", "stalled", "rows"))
        names = owner_names(db, conn.id, list(stalled["by_owner"]))
    stages = sorted(stalled["by_stage"].items(), key=lambda kv: jmap.stage_index(kv[0]) or 0)
    owners = sorted(stalled["by_owner"].items(), key=lambda kv: -kv[1])[:10]
    by_stage = [(jmap.label(k) if k in jmap.stage_keys else k, n) for k, n in stages]
    by_owner = [(names.get(owner, owner), n) for owner, n in owners]
    # "(none)" stands for records without a stage or owner, which no filter value picks
    stalled_by_stage = [bar.records_url(conn.id, stage=k, stalled=True) if k != "(none)" else None
                        for k, _ in stages]
    stalled_by_owner = [bar.records_url(conn.id, owner=k, stalled=True)
                        if k != "(none)" else None for k, _ in owners]
    stage_links = [bar.records_url(conn.id, stage=key) for key in jmap.stage_keys]
    stalled_links = [bar.records_url(conn.id, stage=key, stalled=True) for key in jmap.stage_keys]
    return render_template(
        "dashboard.html", conn=conn, version=version, bar=bar, chosen=bar.params(funnel=kind),
        funnel=funnel, funnel_kind=kind, funnel_types=FUNNEL_TYPES,
        funnel_chart=funnel_chart(funnel, kind, stage_links), kpis=kpi_rows(funnel, days, jmap),
        outcomes=outcomes, exits=jmap.exits, stage_links=stage_links,
        days_chart=days_chart(days, stalled_links), stalled=stalled, stalled_rows=rows,
        columns=COLUMNS, stalled_url=bar.records_url(conn.id, stalled=True),
        stage_chart=count_chart(by_stage, "late", stalled_by_stage),
        owner_chart=count_chart(by_owner, "late", stalled_by_owner))


def _bar(db: Any, connection_id: int, jmap: Any) -> FilterBar:
    try:
        return filter_bar(db, connection_id, jmap, request.args, utcnow().date())
    except FilterError as exc:
        abort(400, str(exc))


@bp.get("/connections/<int:connection_id>/journeys")
@signed_in
def journeys_page(connection_id: int):
    """Trends by week or month, cohorts by month of the first stage, skipped and repeated stages
    and the most common paths, for the period and filters."""
    unit = request.args.get("unit", "month")
    if unit not in UNITS:
        abort(400, f"Trend unit: one of {', '.join(UNITS)}.")
    with services().session() as db:
        conn = page_connection(db, connection_id)
        jmap, _ = connection_map(db, conn.id)
        bar = _bar(db, conn.id, jmap)
        figures = journeys_figures(db, conn.id, jmap, bar.flt, unit, reads=services().reads)
        opened_views.note_opened(db, conn.tenant_id, conn.id, "journeys",
                                 bar.params(unit=unit if unit != "month" else None))
    journeys = figures["journeys"]
    skipped = count_chart([(r["label"], r["moves"]) for r in journeys["skipped"]])
    repeated = count_chart([(r["label"], r["moves"]) for r in journeys["repeated"]], "late")
    return render_template(
        "journeys.html", conn=conn, bar=bar, unit=unit, units=UNITS, chosen=bar.params(unit=unit),
        trends=figures["trends"], cohorts=figures["cohorts"], journeys=journeys, stages=jmap.stages,
        trend_since=figures["since"].date(), skipped_chart=skipped, repeated_chart=repeated)


@bp.get("/connections/<int:connection_id>/records/<object>/<crm_id>")
@signed_in
def record_page(connection_id: int, object: str, crm_id: str):
    """One record's journey: its stages with dates and durations, stalled spans marked."""
    now = utcnow()
    with services().session() as db:
        conn = page_connection(db, connection_id)
        record = record_journey(db, conn.id, object, crm_id, now)
    if record is None:
        abort(404, f"There is no {object} {crm_id} in {conn.name}.")
    return render_template("record.html", conn=conn, record=record, spans=record["timeline"],
                           chart=timeline_chart(record["timeline"], now))
