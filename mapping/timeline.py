"""A record's path through the journey map, built from its stage history.

One rule serves both the current classification and the timeline: consecutive history entries whose
CRM stages map to the same journey key form a run, and a run starts at its first entry. A backward
move (or any other stage in between) ends a run, so coming back starts a new one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Sequence

from mapping.model import UNMAPPED, JourneyMap
from mapping.records import CrmRecord, StageChange
from mapping.timeutil import as_utc, whole_days

EnteredAtSource = Literal["history", "stage_date_field", "created_date"]


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive time in one journey key: when it started, from which datum, and the CRM stages seen."""

    stage: str
    entered_at: datetime
    source: EnteredAtSource
    crm_stages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TimelineSpan:
    """One span of a record's journey; ``exited_at`` is None for the current span."""

    stage: str
    label: str
    entered_at: datetime
    exited_at: datetime | None
    days: int
    stalled: bool
    crm_stages: tuple[str, ...]


def ordered_history(record: CrmRecord, now: datetime) -> list[StageChange]:
    """History oldest first, in UTC, never after ``now``.

    Entries with the same timestamp are ordered by whether they hold the current stage (last), then
    by value, so the order the CRM returned them in never changes the outcome.
    """
    return [StageChange(value, moment) for moment, value in _ordered(record, as_utc(now))]


def _ordered(record: CrmRecord, now: datetime) -> list[tuple[datetime, str]]:
    """:func:`ordered_history` as (moment, value) pairs; ``now`` in UTC."""
    current = record.stage_value
    ordered = sorted([(as_utc(change.entered_at), change.value == current, change.value)
                      for change in record.history])
    return [(moment if moment < now else now, value) for moment, _, value in ordered]


def journey_runs(record: CrmRecord, jmap: JourneyMap, now: datetime) -> list[Run]:
    """The record's runs, oldest first; the last one is always its current journey key.

    When the history does not end in the current journey key (or is missing), the current run starts
    at the CRM's stage-entered date, else at the record's creation, but never before the last
    recorded change (the record can only have entered its current stage after that; the run is
    then dated from history).
    """
    now = as_utc(now)
    # CRM stage value -> journey key, built once per map version (a value it lacks is unmapped).
    keys = jmap.compiled.stage_table(record.crm, record.object, record.stage_object, record.pipeline)
    history = _ordered(record, now)
    # Runs are gathered as (key, entered at, CRM stages) and frozen once complete.
    gathered: list[tuple[str, datetime, list[str]]] = []
    for moment, value in history:
        key = keys.get(value, UNMAPPED)
        if gathered and gathered[-1][0] == key:
            if value not in gathered[-1][2]:
                gathered[-1][2].append(value)
        else:
            gathered.append((key, moment, [value]))

    current_value = record.stage_value
    current_key = keys.get(current_value, UNMAPPED) if current_value is not None else UNMAPPED
    if gathered and gathered[-1][0] == current_key:
        if current_value is not None and current_value not in gathered[-1][2]:
            gathered[-1][2].append(current_value)
        return [Run(key, moment, "history", tuple(values)) for key, moment, values in gathered]
    runs = [Run(key, moment, "history", tuple(values)) for key, moment, values in gathered]
    entered_at, how = _fallback_entry(record, now)
    if history and entered_at < history[-1][0]:
        entered_at, how = history[-1][0], "history"
    runs.append(Run(current_key, entered_at, how, () if current_value is None else (current_value,)))
    return runs


def _fallback_entry(record: CrmRecord, now: datetime) -> tuple[datetime, EnteredAtSource]:
    if record.stage_entered_at is not None:
        return min(as_utc(record.stage_entered_at), now), "stage_date_field"
    return min(as_utc(record.created_at), now), "created_date"


def timeline(record: CrmRecord, jmap: JourneyMap, now: datetime) -> list[TimelineSpan]:
    """The record's journey through the map, oldest span first; the last span is the current one."""
    now = as_utc(now)
    return spans_of(journey_runs(record, jmap, now), jmap, now)


def spans_of(runs: Sequence[Run], jmap: JourneyMap, now: datetime) -> list[TimelineSpan]:
    """Timeline spans of ``runs`` (from :func:`journey_runs`), days measured to ``now``."""
    spans = []
    for run, following in zip(runs, [*runs[1:], None]):
        exited_at = following.entered_at if following is not None else None
        days = whole_days(run.entered_at, exited_at or now)
        spans.append(TimelineSpan(stage=run.stage, label=jmap.label(run.stage), entered_at=run.entered_at,
                                  exited_at=exited_at, days=days, stalled=is_stalled(jmap, run.stage, days),
                                  crm_stages=run.crm_stages))
    return spans


def is_stalled(jmap: JourneyMap, key: str, days: int) -> bool:
    """Whether ``days`` in journey key ``key`` exceed its expected days (exits and unmapped never stall)."""
    expected = jmap.expected_days(key)
    return expected is not None and days > expected
