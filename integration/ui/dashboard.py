"""The journey dashboard (funnel, time in stage, stalled records, filters) and the record page."""
from __future__ import annotations

from dataclasses import replace

from flask import abort, render_template, request

from integration.analytics import filtered_states, stalled_report
from integration.journey_stats import funnel_report, time_in_stage_report
from integration.api.helpers import services
from integration.journey_view import record_journey, record_summary
from integration.record_pages import order_clauses
from integration.store.owners import owner_names
from integration.store.types import utcnow
from integration.sync.map_in_force import connection_map
from integration.ui import bp
from integration.ui.access import page_connection, signed_in
from integration.ui.charts import count_chart, days_chart, funnel_chart, timeline_chart
from integration.ui.filters import FilterError, filter_bar

#: Columns the stalled table sorts by (the REST API's sort keys).
STALLED_SORTS = ("days_over", "amount", "owner", "name")
#: Stalled records per page of the table.
PAGE_SIZE = 25


@bp.get("/connections/<int:connection_id>/dashboard")
@signed_in
def dashboard(connection_id: int):
    """Funnel, time in stage against expected days, and the stalled records."""
    sort = request.args.get("sort", "days_over")
    if sort not in STALLED_SORTS:
        abort(400, f"Sort by one of: {', '.join(STALLED_SORTS)}.")
    page = max(request.args.get("page", 1, type=int), 1)
    with services().session() as db:
        conn = page_connection(db, connection_id)
        jmap, version = connection_map(db, conn.id)
        try:
            bar = filter_bar(db, conn.id, jmap, request.args, utcnow().date())
        except FilterError as exc:
            abort(400, str(exc))
        flt = bar.flt
        funnel = funnel_report(db, conn.id, jmap, flt)
        days = time_in_stage_report(db, conn.id, jmap, flt)
        stalled = stalled_report(db, conn.id, flt)
        names = owner_names(db, conn.id)
        rows = [record_summary(r, names.get(r.owner_id or "")) for r in filtered_states(
            db, conn.id, replace(flt, stalled=True), order=order_clauses(sort), limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE)]
    by_stage = [(jmap.label(k) if k in jmap.stage_keys else k, n)
                for k, n in sorted(stalled["by_stage"].items(),
                                   key=lambda kv: jmap.stage_index(kv[0]) or 0)]
    by_owner = [(names.get(owner, owner), n) for owner, n in
                sorted(stalled["by_owner"].items(), key=lambda kv: -kv[1])[:10]]
    return render_template(
        "dashboard.html", conn=conn, version=version, bar=bar, chosen=bar.params(),
        funnel=funnel, funnel_chart=funnel_chart(funnel),
        days_chart=days_chart(days), stalled=stalled, stalled_rows=rows, sort=sort, page=page,
        first=(page - 1) * PAGE_SIZE,
        pages=max(-(-stalled["total"] // PAGE_SIZE), 1),
        stage_chart=count_chart(by_stage, "late"), owner_chart=count_chart(by_owner, "late"))


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
