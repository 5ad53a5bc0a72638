"""The workspace across its CRMs: the workspace map, people, and the workspace funnel."""
from __future__ import annotations

from flask import g, jsonify, request

from integration.api import bp
from integration.api.auth import require_tenant
from integration.api.errors import ApiError
from integration.api.helpers import caller_connection, json_body, record_filter, services
from integration.api.analytics import funnel_type_arg
from integration.api.map_endpoints import (history_to_dict, map_from_body, review_to_dict,
                                           version_to_dict)
from integration.map_review import apply_map, history, mark_reviewed
from integration.people import UNITS, kept_funnel_report, person_report
from integration.store.types import utcnow
from integration.sync.map_in_force import workspace_map
from mapping import map_to_dict, map_to_yaml
from mapping.analytics import funnel_of_type


@bp.get("/workspace/map")
@require_tenant
def workspace_map_current():
    """The workspace map: every connection without a map of its own uses it."""
    with services().session() as session:
        found = workspace_map(session, g.tenant_id)
    return jsonify({"version": found.version, "scope": found.scope, "map": map_to_dict(found.jmap),
                    "document": map_to_yaml(found.jmap)})


@bp.put("/workspace/map")
@require_tenant
def workspace_map_save():
    """Save a new workspace map version with a comment (422 with every problem if invalid)."""
    body = json_body()
    jmap, _ = map_from_body(body)
    author = g.get("user_email") or body.get("author") or f"api:tenant-{g.tenant_id}"
    with services().session() as session:
        row = apply_map(session, None, map_to_yaml(jmap), author=str(author),
                        comment=str(body.get("comment") or ""), tenant_id=g.tenant_id)
        return jsonify(version_to_dict(row)), 201


@bp.get("/workspace/map/versions")
@require_tenant
def workspace_map_versions():
    """Every saved workspace map version, newest first, with what each changed."""
    with services().session() as session:
        return jsonify(history_to_dict(history(session, None, g.tenant_id)))


@bp.get("/workspace/map/review")
@require_tenant
def workspace_map_review():
    """The review standing of the workspace map."""
    with services().session() as session:
        return jsonify(review_to_dict(session, workspace_map(session, g.tenant_id), g.tenant_id, None))


@bp.post("/workspace/map/reviewed")
@require_tenant
def workspace_map_reviewed():
    """Mark the workspace map reviewed, kept as it is."""
    reviewer = g.get("user_email") or f"api:tenant-{g.tenant_id}"
    with services().session() as session:
        mark_reviewed(session, g.tenant_id, None, reviewed_by=reviewer)
        return jsonify(review_to_dict(session, workspace_map(session, g.tenant_id), g.tenant_id, None))


@bp.get("/people/<email>")
@require_tenant
def people_show(email: str):
    """One person found by e-mail: stage, persona, next best action, stalled, records, timeline."""
    if len(email) > 320:
        raise ApiError(400, "INVALID_EMAIL", "an e-mail address is at most 320 characters")
    with services().session() as session:
        report = person_report(session, g.tenant_id, email, utcnow())
    if report is None:
        raise ApiError(404, "NOT_FOUND", "no person with that e-mail address")
    return jsonify(report)


@bp.get("/analytics/funnel")
@require_tenant
def workspace_funnel():
    """The workspace funnel: each person (or deal) once, whichever CRMs hold it.

    It takes the connection funnel's parameters: the period (``from``/``to``, the dates stages
    were entered), the record filters, and ``funnel`` (reached, any or strict: that type's
    figures also as ``count`` and ``count_conversion``); per stage it answers the three funnel
    types with their conversions and ``current`` (people in the stage now, entered in the
    period). Answers are kept until a connection's data or map, or the workspace map, changes."""
    unit = request.args.get("unit", "people")
    if unit not in UNITS:
        raise ApiError(400, "INVALID_ARGUMENT", f"unit must be one of: {', '.join(UNITS)}",
                       [{"path": "unit", "message": "unknown unit"}])
    flt, kind = record_filter(), funnel_type_arg()
    with services().session() as session:
        ref = request.args.get("connection")
        connection_id = caller_connection(session, ref).id if ref else None
        report = kept_funnel_report(session, g.tenant_id, unit, connection_id, flt,
                                    reads=services().reads)
    if kind:
        report = {**report, "funnel": kind, "stages": funnel_of_type(report["stages"], kind)}
    return jsonify(report)
