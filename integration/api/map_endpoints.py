"""Journey maps of a connection: current, versions, save, validate, coverage, preview."""
from __future__ import annotations

import json

from flask import g, jsonify

from connectors.base import CrmError
from integration.api import bp
from integration.api.auth import require_tenant
from integration.api.errors import ApiError
from integration.api.helpers import caller_connection, int_arg, json_body, services
from integration.map_review import (MapRejected, apply_map, check_map, history, map_coverage,
                                    mark_reviewed, preview_map, version_changes, versions_effect)
from integration.store.map_versions import last_reviewed, map_version
from integration.store.types import utcnow
from integration.sync.map_in_force import MapInForce, map_in_force
from mapping.review import review_status
from mapping import JourneyMap, map_to_dict, map_to_yaml


def problems_detail(problems) -> list[dict]:
    """Validation problems as JSON."""
    return [{"path": p.path, "message": p.message, "line": p.line} for p in problems]


def map_from_body(body: dict) -> tuple[JourneyMap, str]:
    """The map a request carries, as ``{"document": "<yaml or json text>"}`` or ``{"map": {...}}``."""
    if isinstance(body.get("document"), str):
        text = body["document"]
    elif isinstance(body.get("map"), dict):
        text = json.dumps(body["map"])
    else:
        raise ApiError(422, "INVALID_MAP", "send the map as 'document' (YAML/JSON text) or 'map' (object)",
                       [{"path": "document", "message": "required", "line": None}])
    try:
        return check_map(text, source="request"), text
    except MapRejected as exc:
        raise ApiError(422, "INVALID_MAP", f"the map has {len(exc.problems)} problem(s)",
                       problems_detail(exc.problems)) from None


def version_to_dict(row, with_document: bool = False) -> dict:
    data = {"version": row.version, "author": row.author, "comment": row.comment,
            "created_at": row.created_at}
    if with_document:
        data["document"] = row.document
    return data


def history_to_dict(items: list[dict]) -> dict:
    """Map versions, newest first, each with what it changed against the one before."""
    return {"versions": [{**version_to_dict(item["row"]), "summary": item["summary"],
                          "changes": item["changes"]} for item in items]}


def review_to_dict(session, found: MapInForce, tenant_id: int, connection_id: int | None) -> dict:
    """A map's review standing: its period, when it was last reviewed, when the next is due."""
    status = review_status(found.jmap, last_reviewed(session, tenant_id, connection_id), utcnow())
    return {"every_days": status.every_days, "last_reviewed": status.last_reviewed,
            "due_at": status.due_at, "due": status.due, "days_overdue": status.days_overdue}


@bp.get("/connections/<ref>/map")
@require_tenant
def map_current(ref: str):
    """The journey map in force: the connection's own map, else the workspace map (``scope``)."""
    with services().session() as session:
        conn = caller_connection(session, ref)
        found = map_in_force(session, conn.id)
        return jsonify({"version": found.version, "scope": found.scope, "map": map_to_dict(found.jmap),
                        "document": map_to_yaml(found.jmap)})


@bp.put("/connections/<ref>/map")
@require_tenant
def map_save(ref: str):
    """Save a new map version with a comment (422 with every problem if invalid)."""
    body = json_body()
    jmap, _ = map_from_body(body)
    # A signed-in person is the author, whatever the body says; token callers may name one.
    author = g.get("user_email") or body.get("author") or f"api:tenant-{g.tenant_id}"
    with services().session() as session:
        conn = caller_connection(session, ref)
        row = apply_map(session, conn.id, map_to_yaml(jmap), author=str(author),
                        comment=str(body.get("comment") or ""))
        return jsonify(version_to_dict(row)), 201


@bp.get("/connections/<ref>/map/versions")
@require_tenant
def map_versions(ref: str):
    """Every saved map version, newest first, with what each changed (summary and changes)."""
    with services().session() as session:
        conn = caller_connection(session, ref)
        return jsonify(history_to_dict(history(session, conn.id, g.tenant_id)))


@bp.get("/connections/<ref>/map/versions/<int:version>")
@require_tenant
def map_version_show(ref: str, version: int):
    """One map version with its document, what it changed, and the numbers before and after it.

    ``effect`` holds, per stage, the records that reached it, the conversion from the stage before
    and the median days in stage for the stage entries of the 30 days before the version was saved
    and of the 30 days after (up to now).
    """
    with services().session() as session:
        conn = caller_connection(session, ref)
        row = map_version(session, conn.id, version)
        if row is None:
            raise ApiError(404, "NOT_FOUND", f"no map version {version}")
        older = map_version(session, conn.id, version - 1) if version > 1 else None
        effect = versions_effect(session, [conn.id], map_in_force(session, conn.id).jmap, row)
        return jsonify({**version_to_dict(row, with_document=True), **version_changes(older, row),
                        "effect": effect})


@bp.get("/connections/<ref>/map/review")
@require_tenant
def map_review_show(ref: str):
    """The review standing of the connection's map (its own, else the workspace map)."""
    with services().session() as session:
        conn = caller_connection(session, ref)
        found = map_in_force(session, conn.id)
        return jsonify(review_to_dict(session, found, g.tenant_id,
                                      conn.id if found.scope == "connection" else None))


@bp.post("/connections/<ref>/map/reviewed")
@require_tenant
def map_reviewed(ref: str):
    """Mark the connection's map (its own, else the workspace map) reviewed, kept as it is."""
    reviewer = g.get("user_email") or f"api:tenant-{g.tenant_id}"
    with services().session() as session:
        conn = caller_connection(session, ref)
        found = map_in_force(session, conn.id)
        scope = conn.id if found.scope == "connection" else None
        mark_reviewed(session, g.tenant_id, scope, reviewed_by=reviewer)
        return jsonify(review_to_dict(session, found, g.tenant_id, scope))


@bp.post("/maps/validate")
@require_tenant
def map_validate():
    """Validate a map without saving it."""
    jmap, _ = map_from_body(json_body())
    return jsonify({"valid": True, "name": jmap.name, "stages": len(jmap.stages)})


@bp.get("/connections/<ref>/map/coverage")
@require_tenant
def map_coverage_view(ref: str):
    """The CRM's real stages against the map: which are unmapped."""
    with services().session() as session:
        conn_id = caller_connection(session, ref).id
    try:
        return jsonify(map_coverage(services(), conn_id))
    except CrmError as exc:
        raise ApiError(502, exc.code, str(exc)) from None


@bp.post("/connections/<ref>/map/preview")
@require_tenant
def map_preview(ref: str):
    """Dry run a map over the stored records: what would change."""
    body = json_body(required=False)
    jmap = map_from_body(body)[0] if ("document" in body or "map" in body) else None
    with services().session() as session:
        conn = caller_connection(session, ref)
        return jsonify(preview_map(session, conn.id, jmap,
                                   sample=int_arg("sample", 20, low=0, high=200)))
