"""Write-back planning: the values a record should hold in the CRM, and only those that changed.

CRM values come back in the CRM's own representation (strings for booleans and dates in HubSpot,
milliseconds dropped by Salesforce), so the comparison normalises both sides before deciding that
a value differs; otherwise every sync would rewrite every record.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from mapping.classify import JourneyState
from mapping.timeutil import as_utc


def desired_writeback(state: JourneyState) -> dict[str, Any] | None:
    """The write-back values for a classified record; None for unmapped records (never a guess)."""
    if state.unmapped:
        return None
    return {
        "journey_stage": state.stage_label,
        "persona": state.persona_label,
        "next_best_action": state.next_best_action,
        "stalled": state.stalled,
        "stage_entered_at": state.entered_at,
    }


def plan_writeback(desired: Mapping[str, Any] | None, current: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The desired values that differ from ``current``, plus ``journey_updated_at=now`` if any do.

    Returns {} when nothing differs or ``desired`` is None.
    """
    if desired is None:
        return {}
    changes = {key: value for key, value in desired.items() if not same_value(value, current.get(key))}
    if changes:
        changes["journey_updated_at"] = now
    return changes


def same_value(desired: Any, held: Any) -> bool:
    """Whether a CRM-held value already equals the desired one, up to representation."""
    return _normal(desired) == _normal(held)


def _normal(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return as_utc(value).replace(microsecond=0)
    if isinstance(value, str):
        return _normal_text(value)
    return value


def _normal_text(text: str) -> Any:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return as_utc(datetime.fromisoformat(text.strip())).replace(microsecond=0)
    except ValueError:
        return text
