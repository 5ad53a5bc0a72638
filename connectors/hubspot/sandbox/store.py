"""The portal's data in memory: records with full property history, schema, pipelines.

Every write goes through :meth:`Portal.update`, which validates the whole input the way HubSpot
does, records a history entry per changed property, bumps the modification stamp and reports the
changes (for webhooks). All methods take the portal lock, so the threaded server stays consistent.
"""
from __future__ import annotations

import itertools
import json
import re
import sys
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping

from pydantic import TypeAdapter, ValidationError
from sortedcontainers import SortedList

from .associations import Associations
from .owners import Owners
from .schema import (CONTACTS, DEALS, FIELD_TYPES, LIFECYCLE_STAGES, OBJECT_TYPES, TASKS, ObjectType,
                     PropertyDef, builtin_groups, builtin_properties)
from .seed import HubSpotSeed, ObjectSeed, ValidationRuleSeed, association_pairs, property_text
from .wire import HubSpotHttpError, iso_ms, now_utc, parse_datetime_value, validation_error

STAGE_DATE = re.compile(r"^hs_v2_date_(entered|exited)_(.+)$")
ALWAYS_RETURNED = ("hs_object_id", "createdate")


@dataclass(slots=True)
class HistoryEntry:
    """One value a property held, from when, set by what."""

    value: str
    timestamp: datetime
    source_type: str
    source_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"value": self.value, "timestamp": iso_ms(self.timestamp),
                                "sourceType": self.source_type}
        if self.source_id:
            body["sourceId"] = self.source_id
        return body


@dataclass(slots=True)
class Record:
    """One CRM object: current values (strings) and each property's history, oldest first.

    Kept small, for million-record portals: a property whose only value is the one it was created
    with (a seed's, set from the UI at creation) keeps no history list of its own; it is named in
    ``implicit`` (a set shared by records seeded alike) and :meth:`history_of` makes its one entry
    when asked. Its first change writes that entry down before adding the new one.
    """

    id: str
    created: datetime
    updated: datetime
    values: dict[str, str] = field(default_factory=dict)
    history: dict[str, list[HistoryEntry]] = field(default_factory=dict)
    number: int = 0  # the id as a number, for sorting and id filters
    #: When the search index catches up with the last change (None: it has): search is
    #: eventually consistent, and a changed record is not found by search until then.
    indexed_at: datetime | None = None
    #: Properties whose history is their value as created (see the class docstring).
    implicit: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.number = int(self.id)

    def history_of(self, name: str) -> list[HistoryEntry]:
        """The property's history, oldest first (empty when it never had a value)."""
        entries = self.history.get(name)
        if entries is not None:
            return entries
        if name in self.implicit:
            return [HistoryEntry(self.values[name], self.created, "CRM_UI")]
        return []


@dataclass(frozen=True)
class Change:
    """A property change that subscribers hear about."""

    object_type: ObjectType
    object_id: str
    property_name: str
    value: str
    source: str
    occurred_at: datetime


@dataclass
class RecordFailure:
    """A 207 entry for one input of a batch (``trace_id``: the input's ``objectWriteTraceId``)."""

    id: str
    category: str
    message: str
    trace_id: str | None = None


@dataclass(frozen=True)
class ValidationRule:
    """A portal admin's conditional required property: when every ``when`` property holds its
    value after a write, ``required`` must have one. HubSpot enforces these rules on CRM API writes
    from the 2026-09 API version on; the sandbox enforces them on every write path."""

    object_type: str  # "deals", "contacts"
    required: str
    when: dict[str, str]
    message: str

    def problem(self, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """The property error this rule finds in a record's ``values`` after a write, if any."""
        if all(values.get(k) == v for k, v in self.when.items()) and not values.get(self.required):
            return _invalid(self.required, "REQUIRED_FIELD", self.message)
        return None


_RULES = TypeAdapter(list[ValidationRuleSeed])


def parse_rules(raw: Any) -> list[ValidationRule]:
    """Rules from a seed's ``validation_rules`` or the control API's ``rules``; ValueError says
    which one is wrong and why."""
    try:
        seeds = _RULES.validate_python(raw)
    except ValidationError as exc:
        raise ValueError("; ".join("rules" + "".join(f"[{part}]" for part in e["loc"]) + f": {e['msg']}"
                                   for e in exc.errors())) from None
    return [rule_from_seed(seed) for seed in seeds]


def rule_from_seed(seed: ValidationRuleSeed) -> ValidationRule:
    """The rule a validated seed entry declares."""
    return ValidationRule(seed.objectType, seed.required, dict(seed.when),
                          seed.message or f"{seed.required} is required")


#: An index entry: the record's comparable value of the indexed property, its id as a number
#: (unique, so entries never tie), the record.
IndexEntry = tuple[float, int, "Record"]


class ObjectStore:
    """Records, property definitions and property groups of one object type.

    Search reads records through sorted indexes on the properties incremental pulls filter and
    sort on (the id and the modification stamp), so a page costs the records it can match rather
    than every record of the portal. Records join the store through :meth:`add`, and a write that
    changes an indexed value moves the record with :meth:`reindex`.
    """

    def __init__(self, object_type: ObjectType, created_at: datetime) -> None:
        self.type = object_type
        self.records: dict[str, Record] = {}
        self.properties: dict[str, PropertyDef] = {p.name: p for p in builtin_properties(object_type)}
        self.groups: dict[str, dict[str, Any]] = {g["name"]: g for g in builtin_groups(object_type)}
        self.created_at = iso_ms(created_at)
        self.indexes: dict[str, SortedList] = {
            name: SortedList() for name in ("hs_object_id", object_type.modified_property)}
        #: Records changed while the search index lagged, until it catches up with them.
        self.lagging: dict[int, Record] = {}

    def add(self, record: Record) -> None:
        """Store a new record and enter it in the indexes."""
        self.records[record.id] = record
        for name, entry in self.index_entries(record).items():
            self.indexes[name].add(entry)

    def index_entries(self, record: Record) -> dict[str, IndexEntry]:
        """The record's entry in each index (taken before a write, to move it after)."""
        entries = {}
        for name in self.indexes:
            value = record.number if name == "hs_object_id" else record.values.get(name)
            if value not in (None, ""):
                number = value if name == "hs_object_id" else parse_datetime_value(value).timestamp()
                entries[name] = (number, record.number, record)
        return entries

    def reindex(self, record: Record, before: dict[str, IndexEntry]) -> None:
        """Move ``record`` to its new place in each index whose value changed since ``before``."""
        for name, entry in self.index_entries(record).items():
            old = before.get(name)
            if old != entry:
                if old is not None:
                    self.indexes[name].remove(old)
                self.indexes[name].add(entry)


def _invalid(name: str, code: str, message: str) -> dict[str, Any]:
    return {"isValid": False, "message": message, "error": code, "name": name,
            "localizedErrorMessage": message}


class Portal:
    """One HubSpot account: its id, pipelines, object stores and the stage-date switch."""

    def __init__(self, seed: HubSpotSeed, *, stage_dates: bool = True,
                 on_change: Callable[[list[Change]], None] | None = None) -> None:
        self.lock = threading.RLock()
        #: Seconds the search index lags behind changes (0: search sees every change at once).
        self.index_lag = 0.0
        self.portal_id = seed.portal_id
        self.stage_dates = stage_dates
        self.on_change = on_change or (lambda changes: None)
        self.started = now_utc()
        self.pipelines = [p.model_dump() for p in seed.deal_pipelines]
        self.stores = {t.name: ObjectStore(t, self.started) for t in (DEALS, CONTACTS, TASKS)}
        self._deal_stage_ids = {s["id"] for p in self.pipelines for s in p["stages"]}
        self._lifecycle_ids = {o["value"] for o in LIFECYCLE_STAGES}
        self.record_failures: dict[tuple[str, str], tuple[str, str]] = {}
        self.validation_rules: list[ValidationRule] = [rule_from_seed(r) for r in seed.validation_rules]
        self._ids = {DEALS.name: itertools.count(18000000001), CONTACTS.name: itertools.count(101),
                     TASKS.name: itertools.count(90000000001)}
        #: Task id -> the (object type, id) records it is associated with.
        self.task_links: dict[str, list[tuple[str, str]]] = {}
        #: The distinct ``Record.implicit`` sets, shared by every record seeded alike.
        self._implicit_sets: dict[frozenset[str], frozenset[str]] = {}
        for store, records in ((self.stores[DEALS.name], seed.deals),
                               (self.stores[CONTACTS.name], seed.contacts)):
            seed_ids = {r.id for r in records if r.id}
            for record in records:
                self._load(store, record, seed_ids)
        self.associations = Associations(association_pairs(seed))
        self.owners = Owners(seed.owners, (r.values["hubspot_owner_id"] for st in self.stores.values()
                                           for r in st.records.values()
                                           if r.values.get("hubspot_owner_id", "").isdigit()),
                             iso_ms(self.started))

    # ------------------------------------------------------------------------------ loading
    def _next_id(self, store: ObjectStore, seed_ids: set[str]) -> str:
        while True:
            candidate = str(next(self._ids[store.type.name]))
            if candidate not in store.records and candidate not in seed_ids:
                return candidate

    def _load(self, store: ObjectStore, seed_record: ObjectSeed, seed_ids: set[str]) -> None:
        values = {k: v for k, v in ((k, property_text(v)) for k, v in seed_record.properties.items())
                  if v is not None}
        history = {name: [HistoryEntry(e.value, e.timestamp, e.sourceType) for e in entries]
                   for name, entries in seed_record.history.items()}
        self.load_record(store, seed_record.id or self._next_id(store, seed_ids), values, history)

    def load_record(self, store: ObjectStore, record_id: str, values: dict[str, str],
                    history: dict[str, list[HistoryEntry]]) -> Record:
        """Store a record as a seed declares it: ``values`` (text) set from the UI when it was
        created (its ``createdate``, else now), unless ``history`` gives a property's own
        entries, oldest first. Values are trusted: a seed file is validated before it gets here."""
        created = parse_datetime_value(values["createdate"]) if "createdate" in values else self.started
        if store.type is DEALS:
            values.setdefault("pipeline", self.pipelines[0]["id"])
        for name in values:
            if name not in store.properties and not STAGE_DATE.match(name):
                store.properties[name] = PropertyDef(name, name, "string", "text",
                                                     store.type.default_group,
                                                     hubspot_defined=False)
        last_change = max((entries[-1].timestamp for entries in history.values() if entries),
                          default=created)
        modified = values.get(store.type.modified_property)
        updated = parse_datetime_value(modified) if modified else max(created, last_change)
        implicit = set(values) - set(history)
        for name in (store.type.modified_property, "createdate"):
            normal = iso_ms(updated if name != "createdate" else created)
            if name in implicit and values[name] != normal:
                # The history keeps the text as seeded, the value is HubSpot's form of it.
                history[name] = [HistoryEntry(values[name], created, "CRM_UI")]
                implicit.discard(name)
            values[name] = normal
        values["hs_object_id"] = record_id
        shared = self._implicit_sets.setdefault(frozenset(implicit), frozenset(implicit))
        record = Record(record_id, created, updated, values, history, implicit=shared)
        store.add(record)
        return record

    def new_record(self, store: ObjectStore) -> Record:
        """An empty object of ``store``'s type with a fresh id, created now and stored."""
        moment = now_utc()
        record_id = self._next_id(store, set())
        record = Record(record_id, moment, moment, {
            "createdate": iso_ms(moment), store.type.modified_property: iso_ms(moment),
            "hs_object_id": record_id})
        store.add(record)
        return record

    # ------------------------------------------------------------------------------ lookups
    def store(self, object_type: str) -> ObjectStore:
        """The store for a path's object type (``deals``, ``0-3``...); 400 for unknown types."""
        if object_type not in OBJECT_TYPES:
            raise HubSpotHttpError(400, "VALIDATION_ERROR",
                                   f"Unable to infer object type from: {object_type}")
        return self.stores[OBJECT_TYPES[object_type].name]

    def stage_ids(self, object_type: ObjectType) -> set[str]:
        """Every stage value the stage property may hold."""
        if object_type is DEALS:
            return self._deal_stage_ids
        return self._lifecycle_ids

    def knows(self, store: ObjectStore, name: str) -> bool:
        """Whether ``name`` is a property of the portal (stage-calculated ones only when enabled)."""
        if name in store.properties:
            return True
        match = STAGE_DATE.match(name)
        return bool(match and self.stage_dates and match.group(2) in self.stage_ids(store.type))

    # ------------------------------------------------------------------------------ reading
    def value(self, store: ObjectStore, record: Record, name: str) -> str | None:
        """A property's value, computing stage-calculated properties from the stage history."""
        if not name.startswith("hs_v2_date_") or name in store.properties:
            return record.values.get(name)
        return stage_dates(record.history_of(store.type.stage_property)).get(name)

    def render(self, store: ObjectStore, record: Record, properties: Iterable[str] | None,
               with_history: Iterable[str] | None = None) -> dict[str, Any]:
        """A ``SimplePublicObject`` body: asked-for properties (null when unset), unknown ones left out."""
        return self.renderer(store, properties, with_history)(record)

    def renderer(self, store: ObjectStore, properties: Iterable[str] | None,
                 with_history: Iterable[str] | None = None) -> Callable[[Record], dict[str, Any]]:
        """:meth:`render` for many records: which names are known is worked out once."""
        names = list(properties or store.type.default_properties)
        names += [n for n in (*ALWAYS_RETURNED, store.type.modified_property) if n not in names]
        known = [n for n in names if self.knows(store, n)]
        history_names = [n for n in with_history or () if n in store.properties]
        return lambda record: self._render(store, record, known, history_names)

    def _render(self, store: ObjectStore, record: Record, known: list[str],
                with_history: list[str]) -> dict[str, Any]:
        # Stage dates are worked out once per rendering, not kept (a million records' worth).
        dates: dict[str, str] | None = None
        properties: dict[str, str | None] = {}
        for n in known:
            if n.startswith("hs_v2_date_") and n not in store.properties:
                if dates is None:
                    dates = stage_dates(record.history_of(store.type.stage_property))
                properties[n] = dates.get(n)
            else:
                properties[n] = record.values.get(n)
        body: dict[str, Any] = {
            "id": record.id,
            "properties": properties,
            "createdAt": iso_ms(record.created), "updatedAt": iso_ms(record.updated),
            "archived": False,
        }
        if with_history:
            body["propertiesWithHistory"] = {
                n: [e.to_json() for e in reversed(record.history_of(n))] for n in with_history}
        return body

    # ------------------------------------------------------------------------------ writing
    def _check_value(self, store: ObjectStore, record: Record | None, name: str, raw: Any,
                     pipeline: str | None) -> tuple[str, dict[str, Any] | None]:
        """The stored text for ``raw`` and None, or ("", the PropertyValidationResult)."""
        definition = store.properties.get(name)
        if definition is None:
            return "", _invalid(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
        if definition.read_only:
            return "", _invalid(name, "READ_ONLY_VALUE",
                                f"{name} is a read only property; its value cannot be set.")
        text = "" if raw is None else (json.dumps(raw) if not isinstance(raw, str) else raw)
        if text == "":
            return "", None
        try:
            if definition.type == "number":
                float(text)
            elif definition.type in ("datetime", "date"):
                moment = parse_datetime_value(text)
                if definition.type == "date" and (moment.hour, moment.minute, moment.second) != (0, 0, 0):
                    return "", _invalid(name, "INVALID_DATE",
                                        f"{text} is not a valid date for {name}: not midnight UTC")
                text = iso_ms(moment)
        except ValueError:
            return "", _invalid(name, "INVALID_" + definition.type.upper(),
                                f"{text} was not a valid {definition.type}.")
        if definition.type == "bool":
            if text.lower() not in ("true", "false"):
                return "", _invalid(name, "INVALID_OPTION", f'"{text}" was not one of the allowed '
                                    "options: [true, false]")
            text = text.lower()
        if definition.type == "enumeration" and not definition.external_options:
            allowed = [o["value"] for o in definition.options]
            if any(part not in allowed for part in text.split(";")):
                return "", _invalid(name, "INVALID_OPTION", f'"{text}" was not one of the allowed '
                                    f"options: [{', '.join(allowed)}]")
        if definition.type != "string":
            # Options, flags, numbers and dates repeat across records: one copy each is kept.
            text = sys.intern(text)
        # A missing record fails on its own (OBJECT_NOT_FOUND); without it there is no pipeline.
        if name == DEALS.stage_property and store.type is DEALS and (record or pipeline):
            pipeline_id = pipeline or record.values.get("pipeline")
            stages = [s["id"] for p in self.pipelines if p["id"] == pipeline_id for s in p["stages"]]
            if text not in stages:
                return "", _invalid(name, "INVALID_OPTION", f"{text} is not a valid dealstage for "
                                    f"pipeline {pipeline_id}")
        return text, None

    def validate(self, store: ObjectStore, record: Record | None, properties: dict[str, Any]
                 ) -> dict[str, str]:
        """Check every input value; raise HubSpot's 400 listing each invalid property."""
        pipeline = properties.get("pipeline") if store.type is DEALS else None
        clean: dict[str, str] = {}
        problems = []
        for name, raw in properties.items():
            text, problem = self._check_value(store, record, name, raw, pipeline)
            if problem:
                problems.append(problem)
            else:
                clean[name] = text
        if problems:
            raise validation_error(
                "Property values were not valid: " + json.dumps(problems, separators=(",", ":")),
                errors=[{"message": p["message"], "code": p["error"],
                         "context": {"propertyName": [p["name"]]}} for p in problems])
        return clean

    def apply(self, store: ObjectStore, record: Record, clean: dict[str, str], *, source: str,
              source_id: str | None) -> list[Change]:
        """Write validated values; history and the modification stamp move only on real change."""
        moment = now_utc()
        changes = []
        before = store.index_entries(record)
        for name, text in clean.items():
            if record.values.get(name, "") == text:
                continue
            entries = record.history.get(name)
            if entries is None:  # its first change: the value it was created with goes first
                entries = record.history[name] = record.history_of(name)
            if text:
                record.values[name] = text
            else:
                record.values.pop(name, None)
            entries.append(HistoryEntry(text, moment, source, source_id))
            changes.append(Change(store.type, record.id, name, text, source, moment))
        if changes:
            record.updated = moment
            record.values[store.type.modified_property] = iso_ms(moment)
            record.indexed_at = moment + timedelta(seconds=self.index_lag) if self.index_lag else None
            if record.indexed_at is not None:
                store.lagging[record.number] = record
            store.reindex(record, before)
        return changes

    def rule_problems(self, store: ObjectStore, record: Record, clean: Mapping[str, Any]
                      ) -> list[dict[str, Any]]:
        """The portal validation rules ``record`` would break with ``clean`` written."""
        after = {**record.values, **clean}
        found = (rule.problem(after) for rule in self.validation_rules
                 if rule.object_type == store.type.name)
        return [problem for problem in found if problem is not None]

    def update(self, object_type: str, inputs: list[tuple[str, dict[str, Any]]], *,
               source: str = "INTEGRATION", source_id: str | None = None,
               trace_ids: Mapping[str, str] | None = None
               ) -> tuple[list[dict[str, Any]], list[RecordFailure]]:
        """Validate all inputs (a 400 rejects the whole batch), then write the ones that exist.

        A portal validation rule broken by one input rejects the whole batch too, unless every
        input carries an ``objectWriteTraceId`` (``trace_ids``: record id -> trace id): then, as
        HubSpot's multi-status writes do, only that input fails and the others are written.
        """
        with self.lock:
            store = self.store(object_type)
            planned = []
            failures = []
            for record_id, properties in inputs:
                record = store.records.get(record_id)
                clean = self.validate(store, record, properties)
                injected = self.record_failures.get((store.type.name, record_id))
                trace = (trace_ids or {}).get(record_id)
                problems = self.rule_problems(store, record, clean) if record is not None else []
                if record is None:
                    failures.append(RecordFailure(record_id, "OBJECT_NOT_FOUND",
                                                  f"Could not get some {store.type.label} objects, "
                                                  "they may be deleted or not exist. Check that "
                                                  "ids are valid.", trace))
                elif problems:
                    message = "Property values were not valid: " + json.dumps(problems, separators=(",", ":"))
                    if trace_ids is None:
                        raise validation_error(message)
                    failures.append(RecordFailure(record_id, "VALIDATION_ERROR", message, trace))
                elif injected:
                    failures.append(RecordFailure(record_id, *injected, trace))
                else:
                    planned.append((record, clean))
            changes = []
            results = []
            renderers: dict[tuple[str, ...], Callable[[Record], dict[str, Any]]] = {}
            for record, clean in planned:
                changes += self.apply(store, record, clean, source=source, source_id=source_id)
                names = tuple(clean)  # inputs of a batch mostly write the same properties
                if names not in renderers:
                    renderers[names] = self.renderer(store, names)
                results.append(renderers[names](record))
        if changes:
            self.on_change(changes)
        return results, failures


def stage_dates(entries: list[HistoryEntry]) -> dict[str, str]:
    """``hs_v2_date_entered_{stage}`` (the last entry into each stage) and
    ``hs_v2_date_exited_{stage}`` (the last exit from it) from a stage history."""
    dates: dict[str, str] = {}
    previous: HistoryEntry | None = None
    for entry in sorted(entries, key=lambda e: e.timestamp):
        if previous is None or previous.value != entry.value:
            dates[f"hs_v2_date_entered_{entry.value}"] = iso_ms(entry.timestamp)
            if previous is not None:
                dates[f"hs_v2_date_exited_{previous.value}"] = iso_ms(entry.timestamp)
        previous = entry
    return dates


def validate_property_create(store: ObjectStore, body: dict[str, Any]) -> PropertyDef:
    """A ``PropertyCreate`` body checked as HubSpot does; 409 when the name is taken."""
    missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
    if missing:
        raise validation_error(f"Invalid input JSON: missing required fields {missing}")
    name, ptype, field_type = body["name"], body["type"], body["fieldType"]
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise validation_error(f"Property name {name!r} must be lowercase letters, digits and "
                               "underscores, starting with a letter")
    if ptype not in FIELD_TYPES or field_type not in FIELD_TYPES[ptype]:
        raise validation_error(f"Invalid fieldType {field_type!r} for property type {ptype!r}")
    if body["groupName"] not in store.groups:
        raise validation_error(f"Property group {body['groupName']!r} does not exist")
    options = _checked_options(ptype, field_type, body.get("options") or [])
    if name in store.properties or STAGE_DATE.match(name):
        raise HubSpotHttpError(409, "OBJECT_ALREADY_EXISTS",
                               f"Property named '{name}' already exists.")
    return PropertyDef(
        name, body["label"], ptype, field_type, body["groupName"],
        options=options, description=body.get("description", ""), hubspot_defined=False,
        display_order=body.get("displayOrder", -1))


def _checked_options(ptype: str, field_type: str, options: Any) -> list[dict[str, Any]]:
    """Options as HubSpot stores them; enumerations need some, and values must be unique."""
    if not isinstance(options, list) or not all(isinstance(o, dict) for o in options):
        raise validation_error("Invalid input JSON: 'options' must be a list of objects")
    if ptype in ("enumeration", "bool") and field_type != "calculation_equation" and not options:
        raise validation_error(f"Properties of type {ptype} require options")
    values = [str(o.get("value", "")) for o in options]
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise validation_error(f"Duplicate option values: {duplicates}")
    return [{"label": o.get("label", ""), "value": str(o.get("value", "")),
             "displayOrder": o.get("displayOrder", i), "hidden": bool(o.get("hidden")),
             "description": o.get("description", "")} for i, o in enumerate(options)]


def apply_property_update(definition: PropertyDef, body: dict[str, Any]) -> PropertyDef:
    """A ``PropertyUpdate`` (PATCH) applied as HubSpot does: given fields replace the old ones,
    ``options`` replaces the whole list; HubSpot's own properties keep their definition."""
    if definition.hubspot_defined:
        raise validation_error(f"Property {definition.name} is a HubSpot-defined property and "
                               "its definition cannot be changed")
    ptype = body.get("type", definition.type)
    field_type = body.get("fieldType", definition.field_type)
    if ptype not in FIELD_TYPES or field_type not in FIELD_TYPES[ptype]:
        raise validation_error(f"Invalid fieldType {field_type!r} for property type {ptype!r}")
    options = _checked_options(ptype, field_type, body.get("options", definition.options))
    return replace(definition, type=ptype, field_type=field_type, options=options,
                   label=body.get("label", definition.label),
                   description=body.get("description", definition.description),
                   group_name=body.get("groupName", definition.group_name),
                   display_order=body.get("displayOrder", definition.display_order))
