"""Every check a journey map must pass, reported all at once with the path of each problem.

Shape and value checks come from the pydantic models in :mod:`mapping.model`; the checks that need
the whole map (unique keys, references between sections, operator/value pairs) run here on the raw
data, skipping parts whose shape is already reported as wrong.
"""
from __future__ import annotations

from numbers import Real
from typing import Any, Iterator

from pydantic import ValidationError

from mapping.model import OPERATORS, JourneyMap
from mapping.problems import MapProblem, Path, locate

Issue = tuple[Path, str]

# Plain-language messages for pydantic's error types (the rest keep pydantic's own wording).
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "unknown key",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "too_short": "must not be empty",
    "string_too_short": "must not be empty",
    "string_too_long": "is too long",
}


def validate_map_data(data: Any) -> list[MapProblem]:
    """Every problem with parsed map data (without line numbers: they come from the text)."""
    return locate(map_issues(data), {})


def map_issues(data: Any) -> list[Issue]:
    """Every problem with parsed map data as (path, message) pairs."""
    if not isinstance(data, dict):
        return [((), "the map must be a mapping with version, name, stages, ...")]
    return [*_shape_issues(data), *_key_issues(data), *_reference_issues(data), *_condition_issues(data),
            *_target_issues(data)]


def _shape_issues(data: dict) -> Iterator[Issue]:
    try:
        JourneyMap.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            yield _issue_from_pydantic(error)


def _issue_from_pydantic(error: Any) -> Issue:
    loc = tuple(error["loc"])
    if loc and loc[-1] == "[key]":
        return loc[:-1], "keys must be strings"
    if error["type"] == "value_error":
        return loc, str(error["ctx"]["error"])
    if error["type"] == "literal_error":
        return loc, f"must be {error['ctx']['expected']}"
    return loc, _MESSAGES.get(error["type"], error["msg"])


def _dicts(data: dict, key: str) -> Iterator[tuple[int, dict]]:
    items = data.get(key)
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield index, item


def _keyed(data: dict, section: str) -> Iterator[tuple[int, dict, str]]:
    """(index, item, key) of the items of a section that have a string ``key``."""
    for index, item in _dicts(data, section):
        if isinstance(item.get("key"), str):
            yield index, item, item["key"]


def _key_issues(data: dict) -> Iterator[Issue]:
    first_seen: dict[str, Path] = {}
    for section in ("stages", "exits"):
        for index, _, key in _keyed(data, section):
            if key in first_seen:
                yield (section, index, "key"), f"duplicate stage key {key!r} (also {_show(first_seen[key])})"
            else:
                first_seen[key] = (section, index)
    first_rule: dict[str, tuple[Path, Any]] = {}
    for index, rule, key in _keyed(data, "personas"):
        where, label = first_rule.setdefault(key, (("personas", index), rule.get("label")))
        if rule.get("label") != label:
            yield ("personas", index, "label"), f"persona {key!r} has another label in {_show(where)}"


def _reference_issues(data: dict) -> Iterator[Issue]:
    journey_keys = {key for section in ("stages", "exits") for _, _, key in _keyed(data, section)}
    personas = {key for _, _, key in _keyed(data, "personas")}
    default_persona = data.get("default_persona", JourneyMap.model_fields["default_persona"].default)
    if isinstance(default_persona, str):
        personas.add(default_persona)
    sources = data.get("sources")
    crms = set(sources) if isinstance(sources, dict) else set()
    checks = [("persona", personas, "persona"), ("crm", crms, "CRM")]
    # With no readable stage list every stage reference would be reported too; the list's own
    # problem says enough.
    if isinstance(data.get("stages"), list) and data["stages"]:
        checks.insert(0, ("stage", journey_keys, "stage"))
        for path, target in _source_targets(sources):
            if isinstance(target, str) and target not in journey_keys:
                yield path, f"unknown stage {target!r}"
    tasks = data.get("tasks")
    if isinstance(tasks, dict) and isinstance(tasks.get("on_enter"), list) and data.get("stages"):
        stage_keys = {key for _, _, key in _keyed(data, "stages")}
        for index, key in enumerate(tasks["on_enter"]):
            if isinstance(key, str) and key not in stage_keys:
                yield ("tasks", "on_enter", index), f"unknown stage {key!r}"
    for index, rule in _dicts(data, "actions"):
        for key, known, what in checks:
            value = rule.get(key)
            if isinstance(value, str) and value not in known:
                yield ("actions", index, key), f"unknown {what} {value!r}"


def _source_targets(sources: Any) -> Iterator[tuple[Path, Any]]:
    """(path, journey key) of every CRM stage entry of every source."""
    if not isinstance(sources, dict):
        return
    for crm, objects in sources.items():
        if not isinstance(objects, dict):
            continue
        for object_, source in objects.items():
            if not isinstance(source, dict):
                continue
            base: Path = ("sources", crm, object_)
            yield from _entries(source.get("stages"), base + ("stages",))
            pipelines = source.get("pipelines")
            if isinstance(pipelines, dict):
                for pipeline, stages in pipelines.items():
                    yield from _entries(stages, base + ("pipelines", pipeline))


def _entries(stages: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    if isinstance(stages, dict):
        for value, target in stages.items():
            yield path + (value,), target


def _target_issues(data: dict) -> Iterator[Issue]:
    stages = list(_dicts(data, "stages"))
    if stages and isinstance(data["stages"], list) and stages[-1][0] == len(data["stages"]) - 1:
        index, last = stages[-1]
        targets = last.get("targets")
        if isinstance(targets, dict) and targets.get("conversion") is not None:
            yield ("stages", index, "targets", "conversion"), "the last stage has no next stage to convert to"


def _condition_issues(data: dict) -> Iterator[Issue]:
    for index, rule in _dicts(data, "personas"):
        conditions = rule.get("when")
        if not isinstance(conditions, list):
            continue
        for position, condition in enumerate(conditions):
            if isinstance(condition, dict) and condition.get("op") in OPERATORS:
                problem = _value_problem(condition["op"], condition.get("value"))
                if problem:
                    yield ("personas", index, "when", position, "value"), problem


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, bool, Real))


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _value_problem(op: str, value: Any) -> str | None:
    """Why ``value`` does not suit ``op``, or None when it does."""
    if op == "exists":
        return None if value is None or isinstance(value, bool) else "must be true or false for 'exists'"
    if op in ("lt", "lte", "gt", "gte"):
        return None if _is_number(value) else f"must be a number for {op!r}"
    if op in ("in", "not_in"):
        ok = isinstance(value, list) and value and all(_is_scalar(item) for item in value)
        return None if ok else f"must be a non-empty list of values for {op!r}"
    if op == "contains":
        ok = isinstance(value, str) or (isinstance(value, list) and value
                                        and all(isinstance(item, str) for item in value))
        return None if ok else "must be a string, or a non-empty list of strings (any of them), for 'contains'"
    return None if _is_scalar(value) else f"must be a string, number or true/false for {op!r}"


def _show(path: Path) -> str:
    section, index = path
    return f"{section}[{index}]"
