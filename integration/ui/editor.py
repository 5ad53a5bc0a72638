"""The mapping editor: CRM stages against journey stages, expected days, persona and action rows,
preview before saving, version history with diffs, import and export of the map file."""
from __future__ import annotations

import difflib
import json
from typing import Any

from flask import Response, flash, g, redirect, render_template, request, url_for
from jinja2.utils import htmlsafe_json_dumps

from connectors import registry
from connectors.base import CrmError, CrmStage
from integration.api.helpers import json_body, services
from integration.api.map_endpoints import map_from_body
from integration.map_review import (MapRejected, apply_map, history, mark_reviewed, preview_map,
                                    versions_effect)
from integration.store.connections import list_connections
from integration.store.map_versions import last_reviewed
from integration.store.types import utcnow
from integration.sync.map_in_force import MapInForce, connection_map, map_in_force
from integration.ui import bp
from integration.ui.access import author, page_connection, signed_in
from integration.ui.charts import before_after_chart
from mapping import CANONICAL_FIELDS, JourneyMap, coverage, map_to_dict, map_to_yaml
from mapping.model import OPERATORS
from mapping.changes import change_summary, map_changes
from mapping.problems import format_path
from mapping.review import review_status


def _write_section(source: Any, pipeline: str | None) -> tuple[str, ...]:
    """Where a choice for a stage of ``pipeline`` is written: that pipeline's own table when the
    source keeps one (or keeps nothing else), else the table every pipeline shares."""
    if pipeline and ((source.pipelines and pipeline in source.pipelines) or not source.stages):
        return ("pipelines", pipeline)
    return ("stages",)


def stage_groups(jmap: JourneyMap, crm: str, stages: list[CrmStage]) -> list[dict[str, Any]]:
    """The CRM's real stages by object and pipeline (groups in the connector's order, stages in
    CRM order within a group), each with its journey stage and the map path the editor writes it
    to (None when the map has no source for the object)."""
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    sources = jmap.sources.get(crm, {})
    for stage in stages:
        source = sources.get(stage.object)
        group = groups.setdefault((stage.object, stage.pipeline), {
            "crm": crm, "object": stage.object, "pipeline": stage.pipeline,
            "pipeline_label": stage.pipeline_label or stage.pipeline,
            "editable": source is not None, "rows": []})
        row = {"stage": stage, "journey": None, "path": None, "section": None}
        if source is not None:
            section = _write_section(source, stage.pipeline)
            row.update(journey=source.lookup(stage.value, stage.pipeline), section=section[0],
                       path=format_path(("sources", crm, stage.object, *section, stage.value)))
        group["rows"].append(row)
    for group in groups.values():
        group["rows"].sort(key=lambda row: row["stage"].order)
    return list(groups.values())


def crm_stages(conn) -> tuple[list[CrmStage], str | None]:
    """A connection's real stages, or an explanation when the CRM could not be read."""
    try:
        return services().open_connector(conn).stages(), None
    except CrmError as exc:
        return [], f"Could not read the stages from the CRM ({exc.code}): {exc.message}"


@bp.get("/connections/<int:connection_id>/map")
@signed_in
def map_editor(connection_id: int):
    """The mapping editor for one connection."""
    with services().session() as db:
        conn = page_connection(db, connection_id)
        found = map_in_force(db, conn.id)
    stages, stages_error = crm_stages(conn)
    return render_editor(found, [(conn.crm, conn.name, stages)], [stages_error] if stages_error else [],
                         conn=conn,
                         save_url=url_for("api.map_save", ref=conn.id),
                         preview_url=url_for("ui.map_preview_fragment", connection_id=conn.id),
                         done_url=url_for("ui.map_editor", connection_id=conn.id))


def render_editor(found: MapInForce, stages_by_crm: list[tuple[str, str, list[CrmStage]]],
                  errors: list[str], **context: Any) -> str:
    """The editor page for a map and the real stages of each CRM it serves, given as
    (crm, the connections' names, stages): one picker per map entry."""
    jmap = found.jmap
    groups, unmapped, unknown, lost_not_exit = [], [], [], []
    for crm, names, stages in stages_by_crm:
        report = coverage(jmap, crm, stages)
        unmapped += report.unmapped
        unknown += report.unknown
        lost_not_exit += report.lost_not_exit
        groups += [{**group, "connection": names} for group in stage_groups(jmap, crm, stages)]
    objects = {s.object for _crm, _names, stages in stages_by_crm for s in stages}
    objects |= {o for crm, _names, _stages in stages_by_crm for o in jmap.sources.get(crm, {})}
    return render_template(
        "editor.html", jmap=jmap, version=found.version, scope=found.scope, groups=groups,
        report={"unmapped": unmapped, "unknown": unknown, "lost_not_exit": lost_not_exit},
        stages_error=" ".join(errors) or None, operators=OPERATORS,
        map_json=htmlsafe_json_dumps(map_to_dict(jmap), dumps=json.dumps),
        fields=CANONICAL_FIELDS, crms=registry.names(), objects=sorted(objects),
        personas=persona_choices(jmap), saved=request.args.get("saved"), import_problems=None,
        **context)


def persona_choices(jmap: JourneyMap) -> list[tuple[str, str]]:
    """The personas an action rule may name, as (key, label): each rule's key once, in map order,
    then the default persona."""
    keys = dict.fromkeys([rule.key for rule in jmap.personas] + [jmap.default_persona])
    return [(key, jmap.persona_label(key)) for key in keys]


def render_preview(report: dict[str, Any], in_force: JourneyMap, jmap: JourneyMap) -> str:
    """The preview fragment: the dry run, and what the previewed map changes against the map in
    force."""
    changes = map_changes(map_to_dict(in_force), map_to_dict(jmap))
    return render_template("preview.html", report=report, chart=before_after_chart(report["stages"]),
                           changes=changes, summary=change_summary(changes))


@bp.post("/connections/<int:connection_id>/map/preview")
@signed_in
def map_preview_fragment(connection_id: int):
    """The dry run of the map in the request body, as a fragment the editor shows in place.

    An invalid map answers 422 with the same located problems as the REST API.
    """
    jmap, _ = map_from_body(json_body())
    with services().session() as db:
        conn = page_connection(db, connection_id)
        report = preview_map(db, conn.id, jmap, sample=12)
        in_force = map_in_force(db, conn.id).jmap
    return render_preview(report, in_force, jmap)


@bp.get("/connections/<int:connection_id>/map/export")
@signed_in
def map_export(connection_id: int):
    """Download the map in force as a YAML file."""
    with services().session() as db:
        conn = page_connection(db, connection_id)
        jmap, version = connection_map(db, conn.id)
    filename = f"{conn.name}-map-v{version or 0}.yaml"
    return Response(map_to_yaml(jmap), mimetype="application/x-yaml",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/connections/<int:connection_id>/map/import")
@signed_in
def map_import(connection_id: int):
    """Save an uploaded map file as the next version; show every problem with its line if invalid."""
    upload = request.files.get("file")
    with services().session() as db:
        conn = page_connection(db, connection_id)
    if upload is None or not upload.filename:
        flash("Choose a map file (YAML) to import.", "error")
        return redirect(url_for("ui.map_editor", connection_id=connection_id))
    text = upload.read().decode("utf-8", errors="replace")
    comment = request.form.get("comment", "").strip() or f"Imported {upload.filename}"
    try:
        with services().session() as db:
            row = apply_map(db, conn.id, text, author=author(), comment=comment,
                            source=upload.filename)
            saved = row.version
    except MapRejected as exc:
        return render_template("import_failed.html", conn=conn, filename=upload.filename,
                               problems=exc.problems), 422
    return redirect(url_for("ui.map_editor", connection_id=connection_id, saved=saved))


def version_diff(older: str, newer: str) -> list[tuple[str, str]]:
    """Line diff of two map documents as (kind, text); kind is add, remove, hunk or same
    (empty when they are the same)."""
    kinds = {"+": "add", "-": "remove", "@": "hunk", " ": "same"}
    lines = difflib.unified_diff(older.splitlines(), newer.splitlines(), lineterm="", n=2)
    return [(kinds.get(line[:1], "same"), line) for line in list(lines)[2:]]


@bp.get("/connections/<int:connection_id>/map/history")
@signed_in
def map_history(connection_id: int):
    """Every saved version of the connection's own map with what it changed; the chosen one with
    its diff, the numbers before and after it, and a restore that previews first."""
    with services().session() as db:
        conn = page_connection(db, connection_id)
        found = map_in_force(db, conn.id)
        return render_history(db, conn.id, [conn.id], found, conn=conn,
                              save_url=url_for("api.map_save", ref=conn.id),
                              preview_url=url_for("ui.map_preview_fragment", connection_id=conn.id),
                              editor_url=url_for("ui.map_editor", connection_id=conn.id),
                              review_url=url_for("ui.map_mark_reviewed", connection_id=conn.id))


def render_history(db: Any, connection_id: int | None, connection_ids: list[int], found: MapInForce,
                   **context: Any) -> str:
    """The history page of a connection's own map (or, with ``connection_id=None``, of the
    workspace map), whose stored events are those of ``connection_ids``."""
    items = history(db, connection_id, g.tenant_id)
    chosen_number = request.args.get("version", type=int)
    index = next((i for i, item in enumerate(items) if item["row"].version == chosen_number), 0)
    chosen = items[index] if items else None
    previous = items[index + 1]["row"] if chosen and index + 1 < len(items) else None
    current = items[0]["row"] if items and found.scope == ("connection" if connection_id else "workspace") \
        else None
    in_force = current.document if current else map_to_yaml(found.jmap)
    return render_template(
        "history.html", items=items, chosen=chosen, previous=previous, found=found,
        current=current.version if current else None,
        diff=version_diff(previous.document if previous else "", chosen["row"].document) if chosen else [],
        diff_in_force=version_diff(in_force, chosen["row"].document) if chosen else [],
        effect=versions_effect(db, connection_ids, found.jmap, chosen["row"]) if chosen else None,
        review=review_status(found.jmap, last_reviewed(db, g.tenant_id, connection_id), utcnow()),
        connection_names={c.id: c.name for c in list_connections(db, g.tenant_id)}, **context)


@bp.post("/connections/<int:connection_id>/map/reviewed")
@signed_in
def map_mark_reviewed(connection_id: int):
    """Mark the connection's map reviewed as it stands (its own map, else the workspace map)."""
    with services().session() as db:
        conn = page_connection(db, connection_id)
        scope = map_in_force(db, conn.id).scope
        mark_reviewed(db, g.tenant_id, conn.id if scope == "connection" else None,
                      reviewed_by=author())
    return reviewed_redirect(url_for("ui.map_history", connection_id=conn.id))


def reviewed_redirect(history_url: str) -> Response:
    """Back to the start page when the form came from there (``back=home``), else to the history."""
    flash("Marked reviewed: the next reminder comes after the map's review period.", "ok")
    return redirect(url_for("ui.home") if request.form.get("back") == "home" else history_url)
