"""Persona rules: which persona a record has, from its canonical or raw CRM fields.

CRM values arrive in the CRM's own types (HubSpot sends every property as a string), so comparisons
are lenient about representation: numbers compare as numbers when both sides read as numbers,
strings compare without regard to case, and ``"true"``/``"false"`` equal the booleans.
"""
from __future__ import annotations

from typing import Any

from mapping.model import CRM_FIELD_PREFIX, Condition, JourneyMap
from mapping.records import CrmRecord


def match_persona(record: CrmRecord, jmap: JourneyMap) -> str:
    """The key of the first persona rule whose conditions all hold, else the map's default persona."""
    for rule in jmap.personas:
        if all(condition_holds(condition, field_value(record, condition.field)) for condition in rule.when):
            return rule.key
    return jmap.default_persona


def field_value(record: CrmRecord, name: str) -> Any:
    """A canonical field's value, or a raw CRM field's for ``crm.<FieldName>``; None when absent."""
    if name.startswith(CRM_FIELD_PREFIX):
        return record.raw.get(name[len(CRM_FIELD_PREFIX):])
    return record.fields.get(name)


def condition_holds(condition: Condition, actual: Any) -> bool:
    """Whether a record value satisfies one condition (a missing value satisfies only ne/not_in/exists false)."""
    op, expected = condition.op, condition.value
    if op == "exists":
        present = actual is not None and actual != ""
        return present == (True if expected is None else expected)
    if op == "ne":
        return not _equal(actual, expected)
    if op == "in":
        return any(_equal(actual, item) for item in expected)
    if op == "not_in":
        return not any(_equal(actual, item) for item in expected)
    if op == "contains":
        return _contains(actual, expected if isinstance(expected, list) else [expected])
    if op == "eq":
        return _equal(actual, expected)
    number = _as_number(actual)
    if number is None:
        return False
    return {"lt": number < expected, "lte": number <= expected,
            "gt": number > expected, "gte": number >= expected}[op]


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _equal(actual: Any, expected: Any) -> bool:
    if actual is None:
        return False
    if isinstance(expected, bool):
        if isinstance(actual, bool):
            return actual == expected
        return str(actual).strip().casefold() == ("true" if expected else "false")
    if isinstance(expected, (int, float)):
        return _as_number(actual) == expected
    return str(actual).strip().casefold() == str(expected).strip().casefold()


def _contains(actual: Any, needles: list[str]) -> bool:
    if isinstance(actual, str):
        haystack = actual.casefold()
        return any(needle.casefold() in haystack for needle in needles)
    if isinstance(actual, (list, tuple, set, frozenset)):
        return any(_equal(item, needle) for item in actual for needle in needles)
    return False
