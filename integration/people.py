"""People and deals across a workspace's CRMs, as the CLI, the API and the pages show them.

Links come from the people pass (``integration.sync.people``); these functions only read.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlmodel import Session

from integration.analytics import spans_from_events
from integration.store import records as record_store
from integration.store.connections import list_connections
from integration.store.links import group_members, groups_with_email, tenant_groups
from integration.store.models import JourneyEvent, RecordLink, RecordState
from integration.sync.map_in_force import workspace_map
from mapping.people import DEAL, PERSON, lead_state, normalize_email, person_state
from mapping.serialize import record_from_dict, state_from_dict

Unit = Literal["people", "deals"]
UNITS: dict[str, str] = {"people": PERSON, "deals": DEAL}


def _states(session: Session, members: list[RecordLink]) -> dict[tuple[int, str, str], RecordState]:
    by_connection: dict[int, list[tuple[str, str]]] = {}
    for m in members:
        by_connection.setdefault(m.connection_id, []).append((m.object, m.crm_id))
    found = {}
    for cid, keys in by_connection.items():
        for (obj, crm_id), row in record_store.states_by_key(session, cid, keys).items():
            found[(cid, obj, crm_id)] = row
    return found


def person_report(session: Session, tenant_id: int, email: str, now: datetime) -> dict[str, Any] | None:
    """One person found by e-mail (any case): stage, persona, action, linked records, timeline.

    None when no record of the workspace has that address. When explicit CRM ids split records
    sharing the address into several people, the first person (in record order) is shown.
    """
    wanted = normalize_email(email)
    groups = groups_with_email(session, tenant_id, wanted) if wanted else []
    if not groups:
        return None
    members = group_members(session, tenant_id, groups[:1])
    rows = _states(session, members)
    names = {c.id: c.name for c in list_connections(session, tenant_id)}
    jmap = workspace_map(session, tenant_id).jmap
    present = [m for m in members if (m.connection_id, m.object, m.crm_id) in rows]
    records = [record_from_dict(rows[(m.connection_id, m.object, m.crm_id)].record) for m in present]
    state = person_state(records, jmap, now)
    timeline = []
    for member, record in zip(present, records):
        events = record_store.events_for(session, member.connection_id, member.object, member.crm_id)
        for span in spans_from_events(events, jmap, now):
            timeline.append({"stage": span.stage, "label": span.label, "entered_at": span.entered_at,
                             "exited_at": span.exited_at, "days": span.days,
                             "crm": record.crm, "object": member.object, "id": member.crm_id})
    timeline.sort(key=lambda item: (item["entered_at"], item["crm"], item["id"]))
    return {
        "email": wanted,
        "stage": state.stage if state else "unmapped",
        "stage_label": state.stage_label if state else jmap.label("unmapped"),
        "stage_entered_at": state.entered_at if state else None,
        "persona": state.persona if state else None,
        "next_best_action": state.next_best_action if state else None,
        "stalled": state.stalled if state else False,
        "records": [{"crm": record.crm, "object": m.object, "id": m.crm_id,
                     "stage": rows[(m.connection_id, m.object, m.crm_id)].stage,
                     "connection": names.get(m.connection_id), "name": record.name,
                     "email": m.email, "url": record.url}
                    for m, record in zip(present, records)],
        "timeline": timeline,
    }


def linked_people(session: Session, tenant_id: int, limit: int = 10) -> list[dict[str, Any]]:
    """People whose records are in more than one CRM (the first ``limit``, by e-mail)."""
    crm_of = {c.id: c.crm for c in list_connections(session, tenant_id)}
    groups = tenant_groups(session, tenant_id, PERSON)
    spanning = [rows for rows in groups.values() if len({crm_of.get(m.connection_id) for m in rows}) > 1]
    people = [{"email": next((m.email for m in rows if m.email), None), "records": len(rows)}
              for rows in spanning]
    return sorted((p for p in people if p["email"]), key=lambda p: p["email"])[:limit]


def funnel_report(session: Session, tenant_id: int, unit: Unit = "people",
                  connection_id: int | None = None) -> dict[str, Any]:
    """The workspace funnel: each person (or deal) counted once, whichever CRMs hold it.

    ``reached``: people whose furthest journey stage so far (any linked record's) is that stage or
    later; ``current``: people whose stage now (the people rule over their records) is that stage.
    ``exits`` counts people now in each exit. ``connection_id`` limits it to one connection's records.
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}")
    jmap = workspace_map(session, tenant_id).jmap
    groups = tenant_groups(session, tenant_id, UNITS[unit], connection_id)
    members = [m for rows in groups.values() for m in rows]
    states = {key: state_from_dict(row.state) for key, row in _states(session, members).items()}
    furthest = _furthest_stages(session, [m.connection_id for m in members], jmap)
    reached = [0] * len(jmap.stage_keys)
    current = dict.fromkeys((*jmap.stage_keys, *sorted(jmap.exit_keys)), 0)
    for rows in groups.values():
        keys = [(m.connection_id, m.object, m.crm_id) for m in rows]
        lead = lead_state([states[k] for k in keys if k in states], jmap.people_rule)
        if lead is not None and lead.stage in current:
            current[lead.stage] += 1
        best = max((furthest.get(k, -1) for k in keys), default=-1)
        for position in range(best + 1):
            reached[position] += 1
    return {"unit": unit, "total": len(groups),
            "stages": [{"key": key, "label": jmap.label(key), "reached": reached[i],
                        "current": current[key]} for i, key in enumerate(jmap.stage_keys)],
            "exits": {key: current[key] for key in sorted(jmap.exit_keys)}}


def _furthest_stages(session: Session, connection_ids: list[int], jmap: Any) -> dict[tuple[int, str, str], int]:
    """Each record's furthest journey stage position from its stored events."""
    furthest: dict[tuple[int, str, str], int] = {}
    if not connection_ids:
        return furthest
    rows = session.execute(select(JourneyEvent.connection_id, JourneyEvent.object,
                                  JourneyEvent.crm_id, JourneyEvent.to_stage)
                           .where(JourneyEvent.connection_id.in_(sorted(set(connection_ids)))))
    for cid, obj, crm_id, stage in rows:
        position = jmap.stage_index(stage)
        if position is not None and position > furthest.get((cid, obj, crm_id), -1):
            furthest[(cid, obj, crm_id)] = position
    return furthest
