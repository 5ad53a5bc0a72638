"""Classification: where a record stands on the journey map right now."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from mapping.model import UNMAPPED, JourneyMap
from mapping.records import CrmRecord
from mapping.timeline import EnteredAtSource, Run, is_stalled, journey_runs
from mapping.timeutil import as_utc, whole_days


@dataclass(frozen=True, slots=True)
class JourneyState:
    """A record's place on the journey map at one moment.

    ``stage`` is a journey stage or exit key, or ``"unmapped"`` when the map does not name the
    record's CRM stage (``crm_stage`` then holds the raw value, None when the record has no stage).
    ``entered_at_source`` says which datum dated the entry: the stage history, the CRM's
    stage-entered date field, or the record's creation date.
    """

    crm: str
    object: str
    id: str
    crm_stage: str | None
    pipeline: str | None
    stage: str
    stage_label: str
    is_exit: bool
    stage_index: int | None
    entered_at: datetime | None
    entered_at_source: EnteredAtSource | None
    days_in_stage: int
    expected_days: int | None
    stalled: bool
    days_over: int
    persona: str
    persona_label: str
    next_best_action: str | None
    unmapped: bool


def classify(record: CrmRecord, jmap: JourneyMap, now: datetime, *,
             runs: Sequence[Run] | None = None) -> JourneyState:
    """Place ``record`` on ``jmap`` as of ``now`` (an aware datetime; naive is taken as UTC).

    ``runs`` are the record's :func:`~mapping.timeline.journey_runs` when the caller has them
    already (a sync stores the journey too, and computes it once).
    """
    now = as_utc(now)
    compiled = jmap.compiled
    current = (runs if runs is not None else journey_runs(record, jmap, now))[-1]
    stage = current.stage
    facts = compiled.facts[stage]
    unmapped = stage == UNMAPPED
    days = whole_days(current.entered_at, now)
    expected = facts.expected_days
    stalled = is_stalled(jmap, stage, days)
    persona = compiled.persona(record)
    return JourneyState(
        crm=record.crm, object=record.object, id=record.id, crm_stage=record.stage_value,
        pipeline=record.pipeline, stage=stage, stage_label=facts.label, is_exit=facts.is_exit,
        stage_index=facts.stage_index, entered_at=current.entered_at,
        entered_at_source=current.source, days_in_stage=days, expected_days=expected, stalled=stalled,
        days_over=days - expected if stalled else 0, persona=persona,
        persona_label=jmap.persona_label(persona),
        next_best_action=None if unmapped else compiled.action(record, stage, persona, stalled),
        unmapped=unmapped,
    )
