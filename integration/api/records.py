"""Records: filter by stage, persona, stalled, owner; one record with its journey timeline."""
from __future__ import annotations

from flask import jsonify, request

from integration.analytics import RecordFilter, filtered_states
from integration.api import bp
from integration.api.auth import require_tenant
from integration.api.errors import ApiError
from integration.api.helpers import bool_arg, caller_connection, int_arg, services
from integration.journey_view import record_journey, record_summary
from integration.store.models import RecordState

SORTS = {
    "days_over": (RecordState.days_over.desc(), RecordState.id),
    "amount": (RecordState.amount.desc(), RecordState.id),
    "entered_at": (RecordState.entered_at, RecordState.id),
    "owner": (RecordState.owner_id, RecordState.id),
    "name": (RecordState.name, RecordState.id),
}


def record_filter() -> RecordFilter:
    """The record filter given in the query string."""
    return RecordFilter(object=request.args.get("object"), persona=request.args.get("persona"),
                        owner=request.args.get("owner"), pipeline=request.args.get("pipeline"),
                        stage=request.args.get("stage"), stalled=bool_arg("stalled"))


@bp.get("/connections/<ref>/records")
@require_tenant
def records_list(ref: str):
    """Records filtered by object, stage, persona, owner, pipeline, stalled."""
    sort = request.args.get("sort", "days_over")
    if sort not in SORTS:
        raise ApiError(400, "BAD_PARAMETER", f"sort: one of {', '.join(SORTS)}")
    limit, offset = int_arg("limit", 100, low=1, high=1000), int_arg("offset", 0, high=10**9)
    with services().session() as session:
        conn = caller_connection(session, ref)
        rows = filtered_states(session, conn.id, record_filter(), order=SORTS[sort],
                               limit=limit, offset=offset)
        return jsonify({"records": [record_summary(r) for r in rows], "limit": limit,
                        "offset": offset})


@bp.get("/connections/<ref>/records/<object>/<crm_id>")
@require_tenant
def records_show(ref: str, object: str, crm_id: str):
    """One record with its place on the map and its journey timeline."""
    with services().session() as session:
        conn = caller_connection(session, ref)
        view = record_journey(session, conn.id, object, crm_id)
    if view is None:
        raise ApiError(404, "NOT_FOUND", f"no {object} {crm_id!r} in this connection")
    return jsonify(view)
