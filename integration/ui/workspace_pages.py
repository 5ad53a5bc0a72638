"""Pages for the whole workspace: its dashboard (both CRMs together, each person and deal once,
with the connection dashboard's period, filters and funnel types), where its bars lead, the
workspace map editor (every connected CRM's stages on one page), and a person's page."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import abort, g, redirect, render_template, request, url_for

from integration.api.helpers import json_body, services
from integration.api.map_endpoints import map_from_body
from integration.map_review import governed_connections, mark_reviewed, preview_workspace_map
from integration.people import (kept_funnel_reports, kept_linked_people, person_report,
                                workspace_answers)
from integration.record_pages import COUNT_LIMIT, count_upto
from integration.store import opened_views
from integration.store.connections import list_connections
from integration.store.models import Connection
from integration.store.types import utcnow
from integration.sync.map_in_force import connection_map, workspace_map
from integration.ui import bp
from integration.ui.access import author, signed_in
from integration.ui.charts import FUNNEL_TYPES, count_chart, funnel_chart
from integration.ui.editor import (crm_stages, render_editor, render_history, render_preview,
                                   reviewed_redirect)
from integration.ui.filters import FilterBar, workspace_filter_bar
from integration.ui.records_page import MAX_TEXT, stage_label
from integration.view_args import FilterError


@bp.get("/workspace")
@signed_in
def workspace_dashboard():
    """The workspace funnel of people and of deals in a funnel type, for the period and filters
    of the shared bar, with a search for one person; a bar opens the records behind it."""
    kind = request.args.get("funnel", "reached")
    if kind not in FUNNEL_TYPES:
        abort(400, f"Funnel type: one of {', '.join(FUNNEL_TYPES)}.")
    with services().session() as db:
        connections = list_connections(db, g.tenant_id)
        bar = _workspace_bar(db, connections)
        cache = workspace_answers(db, g.tenant_id)
        funnels = kept_funnel_reports(db, g.tenant_id, ("people", "deals"), flt=bar.flt, cache=cache,
                                      reads=services().reads)
        people, deals = funnels["people"], funnels["deals"]
        linked = kept_linked_people(db, g.tenant_id, cache)
        opened_views.note_opened(db, g.tenant_id, None, "workspace", bar.params())
        keys = workspace_map(db, g.tenant_id).jmap.stage_keys
    links = [url_for("ui.workspace_records", stage=key, **bar.params()) for key in keys]
    charts = {unit: {"funnel": funnel_chart(report["stages"], kind, links),
                     "current": count_chart([(s["label"], s["current"]) for s in report["stages"]],
                                            links=links)}
              for unit, report in (("people", people), ("deals", deals))}
    return render_template("workspace.html", people=people, deals=deals, charts=charts, bar=bar,
                           chosen=bar.params(funnel=kind), funnel_kind=kind,
                           funnel_types=FUNNEL_TYPES, connections=connections, linked=linked)


def _workspace_bar(db: Any, connections: list[Connection]) -> FilterBar:
    """The period and filter bar over every connection of the workspace; 400 when unusable."""
    try:
        return workspace_filter_bar(db, [(c.id, connection_map(db, c.id)[0]) for c in connections],
                                    request.args, utcnow().date())
    except FilterError as exc:
        abort(400, str(exc))


@bp.get("/workspace/records")
@signed_in
def workspace_records():
    """Where a workspace funnel bar leads: the records list of each connection, narrowed to the
    bar's stage, period and filters (straight there when only one connection has any)."""
    with services().session() as db:
        connections = list_connections(db, g.tenant_id)
        bar = _workspace_bar(db, connections)
        stage = request.args.get("stage") or None
        if stage and len(stage) > MAX_TEXT:
            abort(400, f"Stage: at most {MAX_TEXT} characters.")
        flt = replace(bar.flt, stage=stage)
        lists = [(c, count_upto(db, c.id, flt, COUNT_LIMIT), bar.records_url(c.id, stage=stage))
                 for c in connections]
        label = stage_label(workspace_map(db, g.tenant_id).jmap, stage)
    holding = [item for item in lists if item[1].value]
    if len(holding) == 1:
        return redirect(holding[0][2])
    return render_template("workspace_records.html", lists=lists, bar=bar, stage=stage,
                           stage_label=label, back=url_for("ui.workspace_dashboard", **bar.params()))


@bp.get("/people")
@signed_in
def people_search():
    """The person with the e-mail address typed in the workspace dashboard's search box."""
    email = (request.args.get("email") or "").strip()
    if not email:
        return redirect(url_for("ui.workspace_dashboard"))
    return redirect(url_for("ui.person_page", email=email))


@bp.get("/people/<email>")
@signed_in
def person_page(email: str):
    """One person across CRMs: stage, persona, next best action, linked records, timeline."""
    with services().session() as db:
        report = person_report(db, g.tenant_id, email, utcnow())
        connections = {c.name: c.id for c in list_connections(db, g.tenant_id)}
    if report is None:
        abort(404, f"No person in your workspace has the e-mail address {email.strip()}.")
    return render_template("person.html", person=report, connections=connections)


@bp.get("/workspace/map")
@signed_in
def workspace_map_editor():
    """The workspace map editor: every connected CRM's real stages on one page."""
    with services().session() as db:
        found = workspace_map(db, g.tenant_id)
        connections = list_connections(db, g.tenant_id)
    # One set of pickers per CRM (the map has one source per CRM object), read from the first of
    # its connections that answers; the heading names every connection of that CRM.
    names: dict[str, list[str]] = {}
    stages_of: dict[str, list] = {}
    errors = []
    for conn in connections:
        names.setdefault(conn.crm, []).append(conn.name)
        if stages_of.get(conn.crm):
            continue
        stages, error = crm_stages(conn)
        stages_of[conn.crm] = stages
        if error:
            errors.append(f"{conn.name}: {error}")
    stages_by_crm = [(crm, ", ".join(names[crm]), stages) for crm, stages in stages_of.items()]
    return render_editor(found, stages_by_crm, errors, save_url=url_for("api.workspace_map_save"),
                         preview_url=url_for("ui.workspace_map_preview"),
                         done_url=url_for("ui.workspace_map_editor"))


@bp.post("/workspace/map/preview")
@signed_in
def workspace_map_preview():
    """The dry run of a workspace map over the records of the connections it serves (a fragment)."""
    jmap, _ = map_from_body(json_body())
    with services().session() as db:
        report = preview_workspace_map(db, g.tenant_id, jmap, sample=12)
        in_force = workspace_map(db, g.tenant_id).jmap
    return render_preview(report, in_force, jmap)


@bp.get("/workspace/map/history")
@signed_in
def workspace_map_history():
    """Every saved workspace map version with what it changed, and the numbers before and after
    the chosen one over the connections the workspace map serves."""
    with services().session() as db:
        return render_history(db, None, governed_connections(db, g.tenant_id),
                              workspace_map(db, g.tenant_id),
                              save_url=url_for("api.workspace_map_save"),
                              preview_url=url_for("ui.workspace_map_preview"),
                              editor_url=url_for("ui.workspace_map_editor"),
                              review_url=url_for("ui.workspace_map_mark_reviewed"))


@bp.post("/workspace/map/reviewed")
@signed_in
def workspace_map_mark_reviewed():
    """Mark the workspace map reviewed as it stands."""
    with services().session() as db:
        mark_reviewed(db, g.tenant_id, None, reviewed_by=author())
    return reviewed_redirect(url_for("ui.workspace_map_history"))
