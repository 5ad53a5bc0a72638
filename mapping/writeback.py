"""Write-back planning: the values a record should hold in the CRM, and only those that changed.

CRM values come back in the CRM's own representation (strings for booleans and dates in HubSpot,
milliseconds dropped by Salesforce), so the comparison normalises both sides before deciding that
a value differs; otherwise every sync would rewrite every record.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Mapping

from mapping.classify import JourneyState
from mapping.model import JourneyMap
from mapping.records import DAY_COUNT_FIELDS
from mapping.timeutil import as_utc


#: Write-back fields whose CRM field is a list of choices (HubSpot enumeration, Salesforce
#: restricted picklist): the record holds the map's key, the CRM shows the map's label.
CHOICE_FIELDS: tuple[str, ...] = ("journey_stage", "persona")


def writeback_choices(jmap: JourneyMap) -> dict[str, list[tuple[str, str]]]:
    """The (value, label) options of each choice field, in map order.

    Journey stage: the stages, then the exits. Persona: the personas in rule order (a key that
    several rules give appears once), then the default persona.
    """
    personas: dict[str, str] = {rule.key: jmap.persona_label(rule.key) for rule in jmap.personas}
    personas.setdefault(jmap.default_persona, jmap.persona_label(jmap.default_persona))
    return {
        "journey_stage": [(s.key, s.label) for s in jmap.stages] + [(e.key, e.label) for e in jmap.exits],
        "persona": list(personas.items()),
    }


def desired_writeback(state: JourneyState) -> dict[str, Any] | None:
    """The write-back values for a classified record; None for unmapped records (never a guess).

    Stage and persona are the map's keys (the values of the CRM's choice fields, whose labels
    are the map's labels), so renaming a label is a field-definition change, not a record write.
    Day counts (see :data:`~mapping.records.DAY_COUNT_FIELDS`) are left blank in an exit: a closed
    record never stalls, and counting its days would be a daily write for nothing.
    """
    if state.unmapped:
        return None
    counting = not state.is_exit and state.entered_at is not None
    return {
        "journey_stage": state.stage,
        "persona": state.persona,
        "next_best_action": state.next_best_action,
        "stalled": state.stalled,
        "stage_entered_at": state.entered_at,
        "stalls_at": stalls_at(state),
        "days_in_stage": state.days_in_stage if counting else None,
        "days_over_expected": state.days_over if counting else None,
    }


def stalls_at(state: JourneyState) -> datetime | None:
    """The moment the record turns stalled in its current stage (None: the stage never stalls).

    A date rather than a day counter: it changes only when the stage (or its expected days)
    does, so it costs no daily writes, and Salesforce derives "days over expected" from it in a
    formula field.
    """
    if state.entered_at is None or state.expected_days is None or state.is_exit:
        return None
    # classify() calls a record stalled once its whole days in the stage exceed the expected days
    return state.entered_at + timedelta(days=state.expected_days + 1)


def plan_writeback(desired: Mapping[str, Any] | None, current: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The desired values that differ from ``current``, plus ``journey_updated_at=now`` if any do.

    Day counts are planned only for a record whose CRM reports holding them (the key is in
    ``current``): a CRM that derives them itself leaves them out. Returns {} when nothing differs
    or ``desired`` is None.
    """
    if desired is None:
        return {}
    changes = {key: value for key, value in desired.items()
               if (key in current or key not in DAY_COUNT_FIELDS) and not same_value(value, current.get(key))}
    if changes:
        changes["journey_updated_at"] = now
    return changes


def same_value(desired: Any, held: Any) -> bool:
    """Whether a CRM-held value already equals the desired one, up to representation."""
    # Equal values normalise alike: only unequal ones need normalising (most compare equal).
    return desired == held or _normal(desired) == _normal(held)


def _normal(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return as_utc(value).replace(microsecond=0)
    if isinstance(value, str):
        return _normal_text(value)
    return value


@lru_cache(maxsize=4096)  # the same texts (stage keys, actions, dates) come back record after record
def _normal_text(text: str) -> Any:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if not lowered[:1].isdigit():  # not an ISO date (they start with the year): skip the parse
        return text
    try:
        return as_utc(datetime.fromisoformat(text.strip())).replace(microsecond=0)
    except ValueError:
        return text
