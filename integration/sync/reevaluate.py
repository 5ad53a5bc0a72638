"""Re-classifying stored records without reading the CRM.

Time alone turns a record stalled, and a new map changes many records at once; both are handled
by one pass over the stored snapshots that queues write-backs only where the CRM's values differ
from what the map now wants. The same pass gives the day counts to records stored before the CRM's
day-count fields were read (installed before them, or synced by an older version): they are
planned as if the CRM held them empty, instead of waiting for a full sync.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors import registry
from integration.services import Services
from integration.store.connections import connection_by_id
from integration.store.links import person_values_of
from integration.store.planner_statistics import keep_sqlite_statistics
from integration.store.records import iter_states
from integration.store.types import utcnow
from integration.sync.verdicts import Judged, judge, save_page, stored_crm_values
from integration.sync.map_in_force import connection_map
from integration.sync.people import people_pass
from mapping.records import DAY_COUNT_FIELDS
from mapping.serialize import record_from_dict

#: The state fields whose change is worth a database write.
_TRACKED = ("stage", "stalled", "persona", "next_best_action", "days_over")

#: Records written per batch.
PAGE = 500


@dataclass
class ReevaluateResult:
    """What a pass found."""

    examined: int = 0
    updated: int = 0
    queued: int = 0
    turned_stalled: int = 0


def reevaluate(services: Services, connection_id: int, *, now: datetime | None = None,
               refresh_events: bool = False) -> ReevaluateResult:
    """Re-classify every stored record of a connection at ``now``; queue the write-backs needed."""
    now = now or utcnow()
    result = ReevaluateResult()
    with services.session() as session:
        jmap, _ = connection_map(session, connection_id)
        day_counts = registry.spec(connection_by_id(session, connection_id).crm).day_counts
        people = person_values_of(session, connection_id)
        page: list[Judged] = []
        for row in iter_states(session, connection_id):
            result.examined += 1
            record, crm_values = record_from_dict(row.record), stored_crm_values(row)
            if day_counts:
                crm_values = _with_day_counts(crm_values)
            verdict = judge(record, jmap, now, crm_values, people.get((row.object, row.crm_id)))
            state = verdict.state
            moved = any(getattr(state, f) != row.state.get(f) for f in _TRACKED)
            if not (moved or verdict.changes or refresh_events):
                continue
            result.updated += 1
            result.queued += bool(verdict.changes)
            result.turned_stalled += bool(state.stalled and not row.stalled)
            page.append(Judged(record, verdict, row, crm_values))
            if len(page) >= PAGE:
                save_page(session, connection_id, page, jmap, now,
                          refresh_events=refresh_events, run_id=None)
                page = []
        save_page(session, connection_id, page, jmap, now, refresh_events=refresh_events,
                  run_id=None)
        conn = connection_by_id(session, connection_id)
        conn.last_stall_pass_at = now
        session.add(conn)
    # Time moves people too (a person turns stalled), and a new map may re-link them.
    people_pass(services, connection_id, now, full=True)
    # SQLite tables that grew a little at a time, or were never analysed, get their statistics
    with services.session() as session:
        keep_sqlite_statistics(session)
    return result


def _with_day_counts(crm_values: dict[str, Any]) -> dict[str, Any]:
    """A record's stored CRM values with the day counts it was stored without, as empty: the
    record was read before its CRM's day-count fields were (see ``mapping.plan_writeback``,
    which plans day counts only for a CRM that reports holding them)."""
    if all(name in crm_values for name in DAY_COUNT_FIELDS):
        return crm_values
    return {**dict.fromkeys(DAY_COUNT_FIELDS), **crm_values}
