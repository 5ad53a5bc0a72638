"""Verdicts on records (classification plus write-back plan) and storing them: state, journey, plan.

Work is done a page of records at a time, with one statement per table rather than one per record.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, NamedTuple, Sequence

from sqlalchemy import update
from sqlmodel import Session

from integration.store import outbox, rollups
from integration.store.bulk import insert_rows
from integration.store.models import RecordState
from integration.store.records import replace_events
from integration.store.values import values_from_json, values_to_json
from mapping import JourneyMap, classify, desired_writeback, plan_writeback
from mapping.timeline import Run, journey_runs, spans_of
from mapping.timeutil import as_utc
from mapping.records import CrmRecord
from mapping.serialize import identity_to_dict, record_to_dict, state_to_dict
from mapping.writeback import same_value


@dataclass(frozen=True)
class Verdict:
    """What one record needs: its state, the write-back changes (empty when none), and its journey
    (the runs of journey stages it went through, computed once for the state and the events)."""

    state: Any
    changes: dict[str, Any]
    runs: Sequence[Run]


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
    now = as_utc(now)
    runs = journey_runs(record, jmap, now)
    state = classify(record, jmap, now, runs=runs)
    desired = person_values if person_values is not None else desired_writeback(state)
    return Verdict(state, plan_writeback(desired, crm_values, now), runs)


def journey_events(verdict: Verdict, jmap: JourneyMap, now: datetime) -> list[dict[str, Any]]:
    """A judged record's journey as event rows: one per journey stage entered."""
    events, previous = [], None
    for span in spans_of(verdict.runs, jmap, now):
        if span.entered_at is None:
            continue
        events.append({"from_stage": previous, "to_stage": span.stage,
                       "occurred_at": span.entered_at, "exited_at": span.exited_at,
                       "crm_stages": list(span.crm_stages)})
        previous = span.stage
    return events


class Saved(NamedTuple):
    """What :func:`save_page` wrote: records new to the store, and states written (new or changed)."""

    new: int
    stored: int


def save_page(session: Session, connection_id: int, page: Sequence[Judged], jmap: JourneyMap,
              now: datetime, *, refresh_events: bool, run_id: int | None) -> Saved:
    """Upsert the records' stored states, refresh their journeys, and set their plans; returns
    how many records were new and how many states were written.

    Only what changed is written: a record whose stored state and CRM values stand as they are
    and that needs no write-back keeps its rows untouched. ``refresh_events`` rewrites the
    journey of every record of the page (the map changed); otherwise only of changed records.

    Core bulk statements rather than ORM objects: a page of 500 records is a handful of
    statements, and no per-record attribute bookkeeping.
    """
    new, known, changed, planned = [], [], [], []
    segments = {}
    for j in page:
        values = _row_values(connection_id, j, now)
        after = rollups.segments_of(values)
        segments[(j.record.object, j.record.id)] = (
            after if j.row is None else rollups.stored_segments(j.row), after)
        if j.row is None:
            new.append(values)
        elif not _same(values, j):
            known.append({"id": j.row.id, **values})
        elif not j.verdict.changes:
            # Nothing the journey depends on moved (our own write-back coming back, a field no
            # rule reads) and nothing is to be written: state, journey and plan stand as they are.
            continue
        else:
            planned.append(j)
            continue
        changed.append(j)
    insert_rows(session, RecordState, new)
    if known:
        session.execute(update(RecordState), known)
    rewrite = page if refresh_events else changed
    if rewrite:
        replace_events(session, connection_id,
                       {(j.record.object, j.record.id): journey_events(j.verdict, jmap, now)
                        for j in rewrite}, segments)
    if changed or planned:
        outbox.replace_plans(session, connection_id,
                             {(j.record.object, j.record.id): j.verdict.changes or None
                              for j in changed + planned}, run_id)
    return Saved(len(new), len(changed))


#: Row values that change on every read without changing the record's journey.
_VOLATILE = frozenset({"modified_at", "updated_at"})
_RECORD_VOLATILE = frozenset({"modified_at", "writeback"})


def _same(values: Mapping[str, Any], item: Judged) -> bool:
    """True when ``values`` store what the item's row holds, stamps and representation aside
    (the CRM keeps our datetimes to the second or millisecond)."""
    row = item.row
    held = stored_crm_values(row)
    if set(held) != set(item.crm_values) or not all(
            same_value(value, held[name]) for name, value in item.crm_values.items()):
        return False
    for name, value in values.items():
        if name in _VOLATILE or name == "crm_values":
            continue
        stored = getattr(row, name)
        if name == "record":
            # its write-back values are the crm_values compared above
            value = {k: v for k, v in value.items() if k not in _RECORD_VOLATILE}
            stored = {k: v for k, v in (stored or {}).items() if k not in _RECORD_VOLATILE}
        if value != stored:
            return False
    return True


def _row_values(connection_id: int, item: Judged, now: datetime) -> dict[str, Any]:
    record, state = item.record, item.verdict.state
    return {"connection_id": connection_id, "object": record.object, "crm_id": record.id,
            "name": record.name, "crm_stage": state.crm_stage, "pipeline": record.pipeline,
            "stage": state.stage, "persona": state.persona,
            "owner_id": _str_or_none(record.fields.get("owner_id")),
            "amount": _float_or_none(record.fields.get("amount")), "stalled": state.stalled,
            "days_over": state.days_over, "entered_at": state.entered_at, **filter_columns(record),
            "next_best_action": state.next_best_action, "record": record_to_dict(record),
            "state": state_to_dict(state),
            "crm_values": values_to_json(item.crm_values), "modified_at": record.modified_at,
            "updated_at": now}


def filter_columns(record: CrmRecord) -> dict[str, str | None]:
    """The record's values of the state row's filter, search and linking columns."""
    return {"crm": record.crm, "email": record.identity.email if record.identity else None,
            "stage_object": record.stage_object, "identity": identity_to_dict(record.identity),
            **{name: _str_or_none(record.fields.get(name))
               for name in ("company", "country", "lead_source")}}


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
