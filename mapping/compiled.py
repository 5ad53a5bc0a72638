"""Lookups derived once per map version, so classifying a record is dictionary reads.

A map is parsed once per version (``JourneyMap.compiled``); classifying 100,000 records then
never walks the map's sources, persona rules or action rules again: stage values map through one
flat table per (CRM, object, pipeline), persona conditions are predicates with their expected
side normalised, and the next best action is remembered per (stage, persona, stalled, CRM, object).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from mapping.actions import next_best_action
from mapping.model import CRM_FIELD_PREFIX, UNMAPPED
from mapping.persona import compile_condition
from mapping.records import CrmRecord

if TYPE_CHECKING:  # the map builds its compiled form (on first use); only the type is needed here
    from mapping.model import JourneyMap

Predicate = Callable[[CrmRecord], bool]


@dataclass(frozen=True, slots=True)
class KeyFacts:
    """What the map says about one journey key (stage, exit or ``unmapped``)."""

    label: str
    is_exit: bool
    stage_index: int | None
    expected_days: int | None


class CompiledMap:
    """The classifier's view of one map version (build through ``JourneyMap.compiled``)."""

    def __init__(self, jmap: JourneyMap) -> None:
        self._jmap = jmap
        self._tables: dict[tuple[str, str, str | None, str | None], dict[str, str]] = {}
        self._actions: dict[tuple[str, str, bool, str, str], str | None] = {}
        #: Facts of every key a record can be classified into; KeyError for any other.
        self.facts: dict[str, KeyFacts] = {
            key: KeyFacts(jmap.label(key), jmap.is_exit(key), jmap.stage_index(key),
                          jmap.expected_days(key))
            for key in (UNMAPPED, *jmap.exit_keys, *jmap.stage_keys)}
        self._personas: list[tuple[str, list[Predicate]]] = [
            (rule.key, [_record_predicate(c.field, compile_condition(c)) for c in rule.when])
            for rule in jmap.personas]

    def stage_table(self, crm: str, object_: str, stage_object: str | None,
                    pipeline: str | None) -> dict[str, str]:
        """CRM stage value -> journey key for records of this CRM object and pipeline (the
        pipeline's own mapping over the source's ``stages``, as :meth:`Source.lookup` decides)."""
        signature = (crm, object_, stage_object, pipeline)
        table = self._tables.get(signature)
        if table is None:
            source = self._jmap.source(crm, object_, stage_object)
            table = {}
            if source is not None:
                table.update(source.stages or {})
                table.update((source.pipelines or {}).get(pipeline, {}))
            self._tables[signature] = table
        return table

    def persona(self, record: CrmRecord) -> str:
        """The key of the first persona rule whose conditions all hold, else the default persona."""
        for key, predicates in self._personas:
            for predicate in predicates:
                if not predicate(record):
                    break
            else:
                return key
        return self._jmap.default_persona

    def action(self, record: CrmRecord, stage: str, persona: str, stalled: bool) -> str | None:
        """The next best action for a record in this state (rules matched once per state)."""
        signature = (stage, persona, stalled, record.crm, record.object)
        try:
            return self._actions[signature]
        except KeyError:
            found = self._actions[signature] = next_best_action(self._jmap, record, stage, persona, stalled)
            return found


def _record_predicate(name: str, holds: Callable[[Any], bool]) -> Predicate:
    """``holds`` applied to the record's value of ``name`` (see :func:`persona.field_value`)."""
    if name.startswith(CRM_FIELD_PREFIX):
        raw_name = name[len(CRM_FIELD_PREFIX):]
        return lambda record: holds(record.raw.get(raw_name))
    return lambda record: holds(record.fields.get(name))
