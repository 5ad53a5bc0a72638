"""Next best action rules: the first rule whose every given key matches the record's state."""
from __future__ import annotations

from mapping.model import ActionRule, JourneyMap
from mapping.records import CrmRecord


def next_best_action(jmap: JourneyMap, record: CrmRecord, stage: str, persona: str, stalled: bool) -> str | None:
    """The action of the first matching rule, or None when no rule matches."""
    for rule in jmap.actions:
        if _matches(rule, record, stage, persona, stalled):
            return rule.action
    return None


def _matches(rule: ActionRule, record: CrmRecord, stage: str, persona: str, stalled: bool) -> bool:
    return ((rule.stage is None or rule.stage == stage)
            and (rule.persona is None or rule.persona == persona)
            and (rule.stalled is None or rule.stalled == stalled)
            and (rule.crm is None or rule.crm == record.crm)
            and (rule.object is None or rule.object == record.object))
