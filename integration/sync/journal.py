"""Storing what classification found about a record: its snapshot, state, journey and plan."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlmodel import Session

from integration.store import outbox
from integration.store.models import RecordState
from integration.store.records import replace_events
from integration.store.types import utcnow
from integration.store.values import values_from_json, values_to_json
from mapping import JourneyMap, classify, desired_writeback, plan_writeback, timeline
from mapping.records import CrmRecord
from mapping.serialize import record_to_dict, state_to_dict


@dataclass(frozen=True)
class Verdict:
    """What one record needs: its state and the write-back changes (empty when none)."""

    state: Any
    changes: dict[str, Any]


def judge(record: CrmRecord, jmap: JourneyMap, now: datetime,
          crm_values: Mapping[str, Any]) -> Verdict:
    """Classify a record and plan the write-back against the values the CRM holds."""
    state = classify(record, jmap, now)
    return Verdict(state, plan_writeback(desired_writeback(state), crm_values, now))


def journey_events(record: CrmRecord, jmap: JourneyMap, now: datetime) -> list[dict[str, Any]]:
    """A record's timeline as event rows: one per journey stage entered."""
    events, previous = [], None
    for span in timeline(record, jmap, now):
        if span.entered_at is None:
            continue
        events.append({"from_stage": previous, "to_stage": span.stage,
                       "occurred_at": span.entered_at, "exited_at": span.exited_at,
                       "crm_stages": list(span.crm_stages)})
        previous = span.stage
    return events


def save_record(session: Session, connection_id: int, record: CrmRecord, verdict: Verdict,
                jmap: JourneyMap, now: datetime, *, row: RecordState | None,
                crm_values: Mapping[str, Any], refresh_events: bool, run_id: int | None) -> None:
    """Upsert the record's stored state, refresh its journey events, and queue or drop its plan."""
    state = verdict.state
    row = row or RecordState(connection_id=connection_id, object=record.object, crm_id=record.id,
                             stage=state.stage, record={}, state={})
    row.name = record.name
    row.crm_stage = state.crm_stage
    row.pipeline = record.pipeline
    row.stage = state.stage
    row.persona = state.persona
    row.owner_id = _str_or_none(record.fields.get("owner_id"))
    row.amount = _float_or_none(record.fields.get("amount"))
    row.stalled = state.stalled
    row.days_over = state.days_over
    row.entered_at = state.entered_at
    row.record = record_to_dict(record)
    row.state = state_to_dict(state)
    row.crm_values = values_to_json(crm_values)
    row.modified_at = record.modified_at
    row.updated_at = now
    session.add(row)
    if refresh_events:
        replace_events(session, connection_id, record.object, record.id,
                       journey_events(record, jmap, now))
    if verdict.changes:
        outbox.enqueue(session, connection_id, record.object, record.id, verdict.changes, run_id)
    else:
        outbox.cancel(session, connection_id, record.object, record.id)


def stored_crm_values(row: RecordState) -> dict[str, Any]:
    """The write-back values the CRM held when we last read or wrote the record."""
    return values_from_json(row.crm_values or {})


def _str_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _float_or_none(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None
