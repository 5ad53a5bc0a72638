"""Persona rules: which persona a record has, from its canonical or raw CRM fields.

CRM values arrive in the CRM's own types (HubSpot sends every property as a string), so comparisons
are lenient about representation: numbers compare as numbers when both sides read as numbers,
strings compare without regard to case, and ``"true"``/``"false"`` equal the booleans.
"""
from __future__ import annotations

import operator
from typing import Any, Callable

from mapping.model import CRM_FIELD_PREFIX, Condition, JourneyMap
from mapping.records import CrmRecord


def match_persona(record: CrmRecord, jmap: JourneyMap) -> str:
    """The key of the first persona rule whose conditions all hold, else the map's default persona."""
    return jmap.compiled.persona(record)


def field_value(record: CrmRecord, name: str) -> Any:
    """A canonical field's value, or a raw CRM field's for ``crm.<FieldName>``; None when absent."""
    if name.startswith(CRM_FIELD_PREFIX):
        return record.raw.get(name[len(CRM_FIELD_PREFIX):])
    return record.fields.get(name)


def condition_holds(condition: Condition, actual: Any) -> bool:
    """Whether a record value satisfies one condition (a missing value satisfies only ne/not_in/exists false)."""
    return compile_condition(condition)(actual)


def compile_condition(condition: Condition) -> Callable[[Any], bool]:
    """:func:`condition_holds` for one condition as a predicate on the record value, with the
    condition's own value normalised once (a map version's rules are compiled once)."""
    op, expected = condition.op, condition.value
    if op == "exists":
        wanted = True if expected is None else expected
        return lambda actual: (actual is not None and actual != "") == wanted
    if op in ("eq", "ne", "in", "not_in"):
        equals = [_equal_to(item) for item in (expected if op in ("in", "not_in") else [expected])]
        if op in ("eq", "in"):
            return lambda actual: any(equal(actual) for equal in equals)
        return lambda actual: not any(equal(actual) for equal in equals)
    if op == "contains":
        needles = expected if isinstance(expected, list) else [expected]
        return lambda actual: _contains(actual, needles)
    compare = {"lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge}[op]
    return lambda actual: (number := _as_number(actual)) is not None and compare(number, expected)


def _equal_to(expected: Any) -> Callable[[Any], bool]:
    """A predicate: whether a record value equals ``expected`` (numbers as numbers, text without case, ``"true"``/``"false"`` as booleans)."""
    if isinstance(expected, bool):
        text = "true" if expected else "false"
        return lambda actual: actual is not None and (
            actual == expected if isinstance(actual, bool) else str(actual).strip().casefold() == text)
    if isinstance(expected, (int, float)):
        return lambda actual: actual is not None and _as_number(actual) == expected
    text = str(expected).strip().casefold()
    return lambda actual: actual is not None and str(actual).strip().casefold() == text


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _contains(actual: Any, needles: list[str]) -> bool:
    if isinstance(actual, str):
        haystack = actual.casefold()
        return any(needle.casefold() in haystack for needle in needles)
    if isinstance(actual, (list, tuple, set, frozenset)):
        return any(_equal_to(needle)(item) for item in actual for needle in needles)
    return False
