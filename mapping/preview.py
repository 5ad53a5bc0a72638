"""Preview: a dry run of a new map over stored records, compared with their current states."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from mapping.classify import JourneyState, classify
from mapping.model import UNMAPPED, JourneyMap
from mapping.records import CrmRecord
from mapping.writeback import desired_writeback, plan_writeback

#: The "before" key of records that have no stored state yet.
UNCLASSIFIED = "unclassified"


@dataclass(slots=True)
class PreviewReport:
    """What applying a new map would change.

    ``rewritten`` counts records whose desired write-back would change (against the old state's,
    or against what the CRM holds when the record had no mapped state). The id lists and ``samples``
    hold at most ``sample`` entries each; the counts are complete.
    """

    stage_order: list[str] = field(default_factory=list)
    total: int = 0
    before: Counter[str] = field(default_factory=Counter)
    after: Counter[str] = field(default_factory=Counter)
    labels: dict[str, str] = field(default_factory=dict)
    rewritten: int = 0
    turn_stalled: int = 0
    stop_stalled: int = 0
    become_unmapped: int = 0
    turn_stalled_ids: list[str] = field(default_factory=list)
    stop_stalled_ids: list[str] = field(default_factory=list)
    become_unmapped_ids: list[str] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def stage_counts(self) -> list[dict[str, Any]]:
        """Records per journey key before and after: the new map's stages and exits in order, then
        keys only the old states had, unmapped and unclassified."""
        others = sorted((set(self.before) | set(self.after)) - set(self.stage_order))
        return [{"stage": key, "label": self.labels.get(key, key),
                 "before": self.before.get(key, 0), "after": self.after.get(key, 0)}
                for key in [*self.stage_order, *others]]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form of the report."""
        return {
            "total": self.total, "stages": self.stage_counts(), "rewritten": self.rewritten,
            "turn_stalled": {"count": self.turn_stalled, "ids": self.turn_stalled_ids},
            "stop_stalled": {"count": self.stop_stalled, "ids": self.stop_stalled_ids},
            "become_unmapped": {"count": self.become_unmapped, "ids": self.become_unmapped_ids},
            "samples": self.samples,
        }


def preview(records: Iterable[tuple[CrmRecord, JourneyState | None]], new_map: JourneyMap, now: datetime,
            sample: int = 20) -> PreviewReport:
    """Classify every record with ``new_map`` and compare with its current state (None if it has none)."""
    keys = [*new_map.stage_keys, *(exit_.key for exit_ in new_map.exits)]
    report = PreviewReport(stage_order=keys, labels={UNCLASSIFIED: "Unclassified",
                                                     **{key: new_map.label(key) for key in [*keys, UNMAPPED]}})
    for record, old in records:
        new = classify(record, new_map, now)
        report.total += 1
        report.before[old.stage if old is not None else UNCLASSIFIED] += 1
        report.after[new.stage] += 1
        if old is not None:
            report.labels.setdefault(old.stage, old.stage_label)
        _count_changes(report, record, old, new, now, sample)
    return report


def _count_changes(report: PreviewReport, record: CrmRecord, old: JourneyState | None, new: JourneyState,
                   now: datetime, sample: int) -> None:
    held = desired_writeback(old) if old is not None and not old.unmapped else record.writeback
    if plan_writeback(desired_writeback(new), held, now):
        report.rewritten += 1
    was_stalled = old is not None and old.stalled
    if new.stalled and not was_stalled:
        report.turn_stalled += 1
        _keep(report.turn_stalled_ids, record.id, sample)
    if was_stalled and not new.stalled:
        report.stop_stalled += 1
        _keep(report.stop_stalled_ids, record.id, sample)
    if new.stage == UNMAPPED and (old is None or not old.unmapped):
        report.become_unmapped += 1
        _keep(report.become_unmapped_ids, record.id, sample)
    if old is None or _outcome(old) != _outcome(new):
        _keep(report.samples, _sample_row(record, old, new), sample)


def _keep(items: list[Any], item: Any, limit: int) -> None:
    if len(items) < limit:
        items.append(item)


def _outcome(state: JourneyState) -> dict[str, Any]:
    return {"stage": state.stage, "stage_label": state.stage_label, "persona": state.persona,
            "stalled": state.stalled, "next_best_action": state.next_best_action}


def _sample_row(record: CrmRecord, old: JourneyState | None, new: JourneyState) -> dict[str, Any]:
    return {"crm": record.crm, "object": record.object, "id": record.id, "name": record.name,
            "crm_stage": record.stage_value, "before": _outcome(old) if old is not None else None,
            "after": _outcome(new)}
