"""Coverage: how a map fits a CRM's real stages (what it leaves unmapped, what it names in vain)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from mapping.model import JourneyMap, Source
from mapping.problems import format_path
from mapping.records import CrmStage


@dataclass(frozen=True, slots=True)
class MappedStage:
    """A real stage and the journey key the map gives it."""

    value: str
    label: str
    journey_stage: str


@dataclass(slots=True)
class CoverageGroup:
    """The real stages of one object (and pipeline), split into mapped and unmapped."""

    object: str
    pipeline: str | None
    has_source: bool
    mapped: list[MappedStage] = field(default_factory=list)
    unmapped: list[CrmStage] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MapEntryNote:
    """A map entry worth a look: ``path`` locates it in the map file, ``reason`` says why."""

    path: str
    object: str
    pipeline: str | None
    value: str
    journey_stage: str
    reason: str


@dataclass(slots=True)
class CoverageReport:
    """How ``crm``'s real stages fit a map.

    ``unknown`` lists map entries naming stages the CRM does not have; ``lost_not_exit`` lists closed,
    not won stages mapped to a journey stage rather than an exit; ``unchecked_objects`` names map
    sources of this CRM for which no real stages were given.
    """

    crm: str
    groups: list[CoverageGroup]
    unknown: list[MapEntryNote]
    lost_not_exit: list[MapEntryNote]
    unchecked_objects: list[str]

    @property
    def unmapped(self) -> list[CrmStage]:
        """Every real stage the map leaves unmapped."""
        return [ref for group in self.groups for ref in group.unmapped]

    @property
    def complete(self) -> bool:
        """True when every real stage is mapped and the map names no stage the CRM lacks."""
        return not self.unmapped and not self.unknown

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form of the report."""
        return {**asdict(self), "unmapped": [asdict(ref) for ref in self.unmapped], "complete": self.complete}


def coverage(jmap: JourneyMap, crm: str, stages: Iterable[CrmStage]) -> CoverageReport:
    """Compare the map's sources for ``crm`` with the CRM's real ``stages``."""
    sources = jmap.sources.get(crm, {})
    groups: dict[tuple[str, str | None], CoverageGroup] = {}
    real: dict[str, dict[str | None, set[str]]] = defaultdict(lambda: defaultdict(set))
    lost_not_exit = []
    for ref in stages:
        source = sources.get(ref.object)
        group = groups.setdefault((ref.object, ref.pipeline),
                                  CoverageGroup(ref.object, ref.pipeline, has_source=source is not None))
        real[ref.object][ref.pipeline].add(ref.value)
        key = source.lookup(ref.value, ref.pipeline) if source is not None else None
        if key is None:
            group.unmapped.append(ref)
            continue
        group.mapped.append(MappedStage(ref.value, ref.label, key))
        if ref.is_closed and not ref.is_won and not jmap.is_exit(key):
            in_pipeline = ref.pipeline if ref.value in (source.pipelines or {}).get(ref.pipeline, {}) else None
            lost_not_exit.append(_note(crm, ref.object, in_pipeline, ref.value, key,
                                       "a closed, not won stage mapped to a journey stage instead of an exit"))
    unknown = [note for object_, source in sources.items() if object_ in real
               for note in _unknown_entries(crm, object_, source, real[object_])]
    unchecked = sorted(object_ for object_ in sources if object_ not in real)
    return CoverageReport(crm, list(groups.values()), unknown, lost_not_exit, unchecked)


def _unknown_entries(crm: str, object_: str, source: Source,
                     real: dict[str | None, set[str]]) -> list[MapEntryNote]:
    every_value = set().union(*real.values())
    notes = [_note(crm, object_, None, value, key, "the CRM has no such stage")
             for value, key in (source.stages or {}).items() if value not in every_value]
    for pipeline, entries in (source.pipelines or {}).items():
        reason = "the CRM has no such stage in this pipeline" if pipeline in real else "the CRM has no such pipeline"
        notes += [_note(crm, object_, pipeline, value, key, reason)
                  for value, key in entries.items() if value not in real.get(pipeline, ())]
    return notes


def _note(crm: str, object_: str, pipeline: str | None, value: str, key: str, reason: str) -> MapEntryNote:
    where = ("stages", value) if pipeline is None else ("pipelines", pipeline, value)
    return MapEntryNote(format_path(("sources", crm, object_, *where)), object_, pipeline, value, key, reason)
