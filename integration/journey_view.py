"""One record's journey as every surface shows it: the REST API, the CRM card and the record page.

The view is built in one place, from the stored state and journey events, so the three can never
disagree about where a record stands.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from integration.analytics import spans_from_events
from integration.store.models import RecordState
from integration.store.owners import owner_names
from integration.store.records import events_for, get_state
from integration.store.types import utcnow
from integration.sync.map_in_force import connection_map


def record_summary(row: RecordState, owner_name: str | None = None) -> dict[str, Any]:
    """A stored record as lists show it: stage, persona, stall, action, amount, owner (with the
    CRM's name for the owner when given), link."""
    state = row.state
    return {"object": row.object, "id": row.crm_id, "name": row.name,
            "email": row.email, "company": row.company,
            "crm_stage": row.crm_stage,
            "pipeline": row.pipeline, "stage": row.stage, "stage_label": state.get("stage_label"),
            "persona": row.persona, "persona_label": state.get("persona_label"),
            "owner_id": row.owner_id, "owner_name": owner_name, "amount": row.amount,
            "stalled": row.stalled,
            "days_in_stage": state.get("days_in_stage"), "expected_days": state.get("expected_days"),
            "days_over": row.days_over, "stage_entered_at": row.entered_at,
            "entered_at_source": state.get("entered_at_source"),
            "next_best_action": state.get("next_best_action"), "url": row.record.get("url"),
            "crm_values": row.crm_values, "updated_at": row.updated_at}


def record_journey(session: Session, connection_id: int, object: str, crm_id: str,
                   now: datetime | None = None, base_url: str | None = None) -> dict[str, Any] | None:
    """The record's summary, its place on the map (``position`` of ``of`` stages, ``is_exit``,
    the map's ``stages``, the stage's ``goal``, ``days_left`` before it stalls) and its ``timeline`` (one span per journey stage entered, with days
    spent against expected days), with ``link``, the record's page in the service, when
    ``base_url`` (the service's URL) is given; None when the record has not been synced."""
    row = get_state(session, connection_id, object, crm_id)
    if row is None:
        return None
    now = now or utcnow()
    jmap, _ = connection_map(session, connection_id)
    index = row.state.get("stage_index")
    spans = spans_from_events(events_for(session, connection_id, object, crm_id), jmap, now)
    owner_name = owner_names(session, connection_id, [row.owner_id]).get(row.owner_id or "")
    stage = next((s for s in jmap.stages if s.key == row.stage), None)
    days, expected = row.state.get("days_in_stage"), row.state.get("expected_days")
    link = ({"link": f"{base_url}/connections/{connection_id}/records/{object}/{crm_id}"}
            if base_url else {})
    return {**record_summary(row, owner_name), **link,
            "goal": stage.goal if stage else None,
            "days_left": max(expected - days, 0) if expected is not None and days is not None else None,
            "position": index + 1 if index is not None else None, "of": len(jmap.stages),
            "is_exit": row.state.get("is_exit"),
            "stages": [{"key": s.key, "label": s.label} for s in jmap.stages],
            "timeline": [{"stage": s.stage, "label": s.label, "entered_at": s.entered_at,
                          "exited_at": s.exited_at, "days": s.days, "stalled": s.stalled,
                          "expected_days": jmap.expected_days(s.stage),
                          "crm_stages": list(s.crm_stages)} for s in spans]}
