"""Verdicts on records (classification plus write-back plan) and storing them: state, journey, plan.

Work is done a page of records at a time, with one statement per table rather than one per record.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Sequence

from sqlalchemy import insert, update
from sqlmodel import Session

from integration.store import outbox
from integration.store.models import RecordState
from integration.store.records import replace_events
from integration.store.values import values_from_json, values_to_json
from mapping import JourneyMap, classify, desired_writeback, plan_writeback, timeline
from mapping.records import CrmRecord
from mapping.serialize import record_to_dict, state_to_dict


@dataclass(frozen=True)
class Verdict:
    """What one record needs: its state and the write-back changes (empty when none)."""

    state: Any
    changes: dict[str, Any]


@dataclass(frozen=True)
class Judged:
    """A record, its verdict, its stored row (None if new) and the CRM's write-back values."""

    record: CrmRecord
    verdict: Verdict
    row: RecordState | None
    crm_values: Mapping[str, Any]


def judge(record: CrmRecord, jmap: JourneyMap, now: datetime, crm_values: Mapping[str, Any],
          person_values: Mapping[str, Any] | None = None) -> Verdict:
    """Classify a record and plan the write-back against the values the CRM holds.

    ``person_values`` are the values of the person the record is linked into (see
    ``integration.sync.people``); they replace the record's own values in the plan.
    """
    state = classify(record, jmap, now)
    desired = person_values if person_values is not None else desired_writeback(state)
    return Verdict(state, plan_writeback(desired, crm_values, now))


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


def save_page(session: Session, connection_id: int, page: Sequence[Judged], jmap: JourneyMap,
              now: datetime, *, refresh_events: bool, run_id: int | None) -> None:
    """Upsert the records' stored states, refresh their journeys, and set their plans.

    Core bulk statements rather than ORM objects: a page of 500 records is a handful of
    statements, and no per-record attribute bookkeeping.
    """
    new = [_row_values(connection_id, j, now) for j in page if j.row is None]
    known = [{"id": j.row.id, **_row_values(connection_id, j, now)} for j in page if j.row is not None]
    if new:
        session.execute(insert(RecordState), new)
    if known:
        session.execute(update(RecordState), known)
    if refresh_events:
        replace_events(session, connection_id,
                       {(j.record.object, j.record.id): journey_events(j.record, jmap, now)
                        for j in page})
    outbox.replace_plans(session, connection_id,
                         {(j.record.object, j.record.id): j.verdict.changes or None for j in page},
                         run_id)


def _row_values(connection_id: int, item: Judged, now: datetime) -> dict[str, Any]:
    record, state = item.record, item.verdict.state
    return {"connection_id": connection_id, "object": record.object, "crm_id": record.id,
            "name": record.name, "crm_stage": state.crm_stage, "pipeline": record.pipeline,
            "stage": state.stage, "persona": state.persona,
            "owner_id": _str_or_none(record.fields.get("owner_id")),
            "amount": _float_or_none(record.fields.get("amount")), "stalled": state.stalled,
            "days_over": state.days_over, "entered_at": state.entered_at,
            "record": record_to_dict(record), "state": state_to_dict(state),
            "crm_values": values_to_json(item.crm_values), "modified_at": record.modified_at,
            "updated_at": now}


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
