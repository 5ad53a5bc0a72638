"""Records: filter by stage, persona, stalled, owner; one record with its journey timeline."""
from __future__ import annotations

from flask import jsonify, request

from integration.analytics import RecordFilter, filtered_states, spans_from_events
from integration.api import bp
from integration.api.auth import require_tenant
from integration.api.errors import ApiError
from integration.api.helpers import bool_arg, caller_connection, int_arg, services
from integration.store.models import RecordState
from integration.store.records import events_for, get_state
from integration.store.types import utcnow
from integration.sync.map_in_force import connection_map

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


def record_to_dict(row: RecordState) -> dict:
    """A stored record as the API lists it."""
    state = row.state
    return {"object": row.object, "id": row.crm_id, "name": row.name, "crm_stage": row.crm_stage,
            "pipeline": row.pipeline, "stage": row.stage, "stage_label": state.get("stage_label"),
            "persona": row.persona, "persona_label": state.get("persona_label"),
            "owner_id": row.owner_id, "amount": row.amount, "stalled": row.stalled,
            "days_in_stage": state.get("days_in_stage"), "expected_days": state.get("expected_days"),
            "days_over": row.days_over, "stage_entered_at": row.entered_at,
            "entered_at_source": state.get("entered_at_source"),
            "next_best_action": state.get("next_best_action"), "url": row.record.get("url"),
            "crm_values": row.crm_values, "updated_at": row.updated_at}


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
        return jsonify({"records": [record_to_dict(r) for r in rows], "limit": limit,
                        "offset": offset})


@bp.get("/connections/<ref>/records/<object>/<crm_id>")
@require_tenant
def records_show(ref: str, object: str, crm_id: str):
    """One record with its journey timeline."""
    with services().session() as session:
        conn = caller_connection(session, ref)
        row = get_state(session, conn.id, object, crm_id)
        if row is None:
            raise ApiError(404, "NOT_FOUND", f"no {object} {crm_id!r} in this connection")
        jmap, _ = connection_map(session, conn.id)
        spans = spans_from_events(events_for(session, conn.id, object, crm_id), jmap, utcnow())
        return jsonify({**record_to_dict(row), "timeline": [
            {"stage": s.stage, "label": s.label, "entered_at": s.entered_at,
             "exited_at": s.exited_at, "days": s.days, "stalled": s.stalled,
             "crm_stages": list(s.crm_stages)} for s in spans]})
