"""What changed between two versions of a journey map, section by section, in words RevOps read.

Works on the plain map data (``map_to_dict`` form, or a parsed map file), not on
:class:`~mapping.model.JourneyMap`: an old version must still be described after the map format
has grown keys or stricter checks.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, Iterator, Mapping

#: Sections in the order a change summary lists them, with the words a summary uses.
SECTIONS: dict[str, tuple[str, str]] = {
    "stages": ("stage", "stages"),
    "expected_days": ("expected days", "expected days"),
    "exits": ("exit", "exits"),
    "mappings": ("CRM stage mapping", "CRM stage mappings"),
    "personas": ("persona", "personas"),
    "actions": ("next best action", "next best actions"),
    "settings": ("setting", "settings"),
}

#: Top-level keys compared as a whole ("settings"): any change to them is one change.
_SETTING_KEYS = ("name", "default_persona", "default_persona_label", "people", "tasks", "review")


@dataclass(frozen=True)
class MapChange:
    """One change: its section (a key of :data:`SECTIONS`), ``added``/``removed``/``changed``,
    what it is about, and the value before and after as short text (None when absent)."""

    section: str
    kind: str
    subject: str
    before: str | None = None
    after: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The change as JSON-ready data."""
        return asdict(self)


def map_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[MapChange]:
    """Every change from ``old`` to ``new``, grouped by section in the order of :data:`SECTIONS`."""
    changes = [*_stage_changes(old, new), *_exit_changes(old, new), *_mapping_changes(old, new),
               *_persona_changes(old, new), *_action_changes(old, new), *_setting_changes(old, new)]
    order = list(SECTIONS)
    return sorted(changes, key=lambda change: order.index(change.section))


def change_summary(changes: list[MapChange]) -> str:
    """One line such as ``2 CRM stage mappings, 1 expected days changed`` ("No change" if none)."""
    counts = Counter(change.section for change in changes)
    parts = [f"{counts[s]} {SECTIONS[s][0] if counts[s] == 1 else SECTIONS[s][1]}"
             for s in SECTIONS if counts[s]]
    return f"{', '.join(parts)} changed" if parts else "No change"


def _text(value: Any) -> str | None:
    """A value as short text: scalars as they are, collections as compact key: value lists."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_text(v) or "" for v in value) + "]"
    return str(value)


def _by_key(items: Any) -> dict[str, Mapping[str, Any]]:
    """Keyed entries of a list section; entries without a string key are left out."""
    if not isinstance(items, list):
        return {}
    return {item["key"]: item for item in items
            if isinstance(item, Mapping) and isinstance(item.get("key"), str)}


def _keyed_changes(section: str, old: Any, new: Any) -> Iterator[MapChange]:
    """Added, removed and relabelled entries of a keyed list (stages, exits)."""
    before, after = _by_key(old), _by_key(new)
    for key, item in after.items():
        label = str(item.get("label", key))
        if key not in before:
            yield MapChange(section, "added", label, None, key)
        elif before[key].get("label") != item.get("label"):
            yield MapChange(section, "changed", label, _text(before[key].get("label")), label)
    for key, item in before.items():
        if key not in after:
            yield MapChange(section, "removed", str(item.get("label", key)), key, None)


def _stage_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[MapChange]:
    yield from _keyed_changes("stages", old.get("stages"), new.get("stages"))
    before, after = _by_key(old.get("stages")), _by_key(new.get("stages"))
    old_order, new_order = [k for k in before if k in after], [k for k in after if k in before]
    if old_order != new_order:
        yield MapChange("stages", "changed", "Order", " → ".join(old_order), " → ".join(new_order))
    for key in (k for k in after if k in before):
        label = str(after[key].get("label", key))
        old_days, new_days = before[key].get("expected_days"), after[key].get("expected_days")
        if old_days != new_days:
            yield MapChange("expected_days", "changed", label,
                            _text(old_days) or "never stalls", _text(new_days) or "never stalls")
        # Every other stage key (goal, targets, owner...) counts as a change to the stage.
        for name in sorted((set(before[key]) | set(after[key])) - {"key", "label", "expected_days"}):
            if before[key].get(name) != after[key].get(name):
                yield MapChange("stages", "changed", f"{label} · {name.replace('_', ' ')}",
                                _text(before[key].get(name)), _text(after[key].get(name)))


def _exit_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[MapChange]:
    yield from _keyed_changes("exits", old.get("exits"), new.get("exits"))


def _stage_entries(sources: Any) -> dict[tuple[str, ...], str]:
    """Every mapping entry of ``sources`` as (crm, object, [pipeline,] CRM stage) -> journey key,
    plus (crm, object, "field") -> the stage field read."""
    entries: dict[tuple[str, ...], str] = {}
    if not isinstance(sources, Mapping):
        return entries
    for crm, objects in sources.items():
        for object_, source in (objects or {}).items() if isinstance(objects, Mapping) else ():
            if not isinstance(source, Mapping):
                continue
            entries[(crm, object_, "field")] = str(source.get("field"))
            for value, key in (source.get("stages") or {}).items():
                entries[(crm, object_, "stage", value)] = str(key)
            for pipeline, table in (source.get("pipelines") or {}).items():
                for value, key in (table or {}).items():
                    entries[(crm, object_, "pipeline", pipeline, value)] = str(key)
    return entries


def _entry_subject(entry: tuple[str, ...]) -> str:
    crm, object_, kind, *rest = entry
    if kind == "field":
        return f"{crm} {object_} · stage field"
    if kind == "pipeline":
        return f"{crm} {object_} · pipeline {rest[0]} · {rest[1]}"
    return f"{crm} {object_} · {rest[0]}"


def _mapping_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[MapChange]:
    before, after = _stage_entries(old.get("sources")), _stage_entries(new.get("sources"))
    for entry in sorted(set(before) | set(after)):
        if before.get(entry) == after.get(entry):
            continue
        kind = "added" if entry not in before else "removed" if entry not in after else "changed"
        yield MapChange("mappings", kind, _entry_subject(entry), before.get(entry), after.get(entry))


def _persona_rules(personas: Any) -> dict[str, list[Mapping[str, Any]]]:
    rules: dict[str, list[Mapping[str, Any]]] = {}
    for rule in personas if isinstance(personas, list) else ():
        if isinstance(rule, Mapping):
            rules.setdefault(str(rule.get("key")), []).append(rule)
    return rules


def _conditions(rules: list[Mapping[str, Any]]) -> str:
    return " or ".join(
        " and ".join(f"{c.get('field')} {c.get('op')}" + (f" {_text(c['value'])}" if "value" in c else "")
                     for c in rule.get("when") or () if isinstance(c, Mapping)) or "always"
        for rule in rules)


def _persona_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[MapChange]:
    before, after = _persona_rules(old.get("personas")), _persona_rules(new.get("personas"))
    for key in [*after, *(k for k in before if k not in after)]:
        label = str((after.get(key) or before[key])[0].get("label", key))
        if key not in before:
            yield MapChange("personas", "added", label, None, _conditions(after[key]))
        elif key not in after:
            yield MapChange("personas", "removed", label, _conditions(before[key]), None)
        elif before[key] != after[key]:
            yield MapChange("personas", "changed", label, _conditions(before[key]), _conditions(after[key]))
    old_keys, new_keys = [k for k in before if k in after], [k for k in after if k in before]
    if old_keys != new_keys:
        yield MapChange("personas", "changed", "Order (first match wins)",
                        " → ".join(old_keys), " → ".join(new_keys))


def _action_text(rule: Mapping[str, Any]) -> str:
    when = ", ".join(f"{name} {rule[name]}" for name in ("stage", "persona", "stalled", "crm", "object")
                     if rule.get(name) is not None)
    return f"{rule.get('action')}" + (f" (when {when})" if when else " (any record)")


def _action_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[MapChange]:
    before = [_action_text(r) for r in old.get("actions") or () if isinstance(r, Mapping)]
    after = [_action_text(r) for r in new.get("actions") or () if isinstance(r, Mapping)]
    removed, added = Counter(before) - Counter(after), Counter(after) - Counter(before)
    for text in after:
        if added[text]:
            added[text] -= 1
            yield MapChange("actions", "added", text, None, text)
    for text in before:
        if removed[text]:
            removed[text] -= 1
            yield MapChange("actions", "removed", text, text, None)
    kept = Counter(before) & Counter(after)
    if [t for t in before if kept[t]] != [t for t in after if kept[t]]:
        yield MapChange("actions", "changed", "Order (first match wins)", None, None)


def _setting_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[MapChange]:
    for name in _SETTING_KEYS:
        if old.get(name) != new.get(name):
            kind = "added" if old.get(name) is None else "removed" if new.get(name) is None else "changed"
            yield MapChange("settings", kind, name.replace("_", " ").capitalize(),
                            _text(old.get(name)), _text(new.get(name)))
