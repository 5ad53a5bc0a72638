"""The CRM search endpoint's semantics: filter groups, operators, one sort, offset paging, caps."""
from __future__ import annotations

import heapq
from typing import Any, Callable

from .store import ObjectStore, Portal, Record
from .wire import now_utc, parse_datetime_value, validation_error

MAX_LIMIT = 200
MAX_RESULTS = 10_000
MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
OPERATORS = {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
             "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
QUERY_PROPERTIES = {"deals": ("dealname",), "contacts": ("email", "firstname", "lastname", "company"),
                    "tasks": ("hs_task_subject", "hs_task_body")}

Key = Callable[[str], Any]


def _key_for(store: ObjectStore, name: str) -> Key:
    """How values of ``name`` compare: numbers numerically, dates as instants, text without case."""
    definition = store.properties.get(name)
    kind = definition.type if definition else "datetime"  # stage-calculated dates
    if name == "hs_object_id" or kind == "number":
        return float
    if kind in ("datetime", "date"):
        return lambda text: parse_datetime_value(text).timestamp()
    return lambda text: text.lower()


def _getter(portal: Portal, store: ObjectStore, name: str) -> Callable[[Record], Any]:
    """A record's comparable value of ``name`` (None when unset)."""
    if name == "hs_object_id":
        return lambda record: record.number
    key = _key_for(store, name)

    def get(record: Record) -> Any:
        value = portal.value(store, record, name)
        return key(value) if value not in (None, "") else None
    return get


def _compile_filter(portal: Portal, store: ObjectStore, spec: dict[str, Any]
                    ) -> Callable[[Record], bool]:
    name = spec.get("propertyName")
    operator = spec.get("operator")
    if not name or operator not in OPERATORS:
        raise validation_error(f"Invalid filter: propertyName and a known operator are required, "
                               f"got {spec!r}")
    if not portal.knows(store, name):
        raise validation_error(f"Property {name!r} does not exist on {store.type.name}",
                               subCategory="UNKNOWN_PROPERTY")
    key = _key_for(store, name)
    get = _getter(portal, store, name)
    if operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        wanted = operator == "HAS_PROPERTY"
        return lambda record: (get(record) is not None) == wanted
    try:
        if operator in ("IN", "NOT_IN"):
            values = spec.get("values")
            if not isinstance(values, list) or not values:
                raise validation_error(f"Filter on {name} with {operator} needs a 'values' list")
            definition = store.properties.get(name)
            inside = operator == "IN"
            if definition is not None and definition.type == "string":
                # String IN filters match only lower-case values, as HubSpot documents.
                raw_values = set(values)
                return lambda record: (v := get(record)) is not None and (v in raw_values) == inside
            wanted_set = {key(str(v)) for v in values}
            return lambda record: (v := get(record)) is not None and (v in wanted_set) == inside
        value = spec.get("value")
        if value is None:
            raise validation_error(f"Filter on {name} with {operator} needs a 'value'")
        if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            token = str(value).lower().strip("*")
            has = operator == "CONTAINS_TOKEN"
            return lambda record: (token in (portal.value(store, record, name) or "").lower()) == has
        target = key(str(value))
        if operator == "BETWEEN":
            if spec.get("highValue") is None:
                raise validation_error(f"Filter on {name} with BETWEEN needs a 'highValue'")
            high = key(str(spec["highValue"]))
            return lambda record: (v := get(record)) is not None and target <= v <= high
    except ValueError:
        raise validation_error(f"Filter value {spec.get('value')!r} is not valid for {name}") from None
    compare = {"EQ": lambda a: a == target, "NEQ": lambda a: a != target,
               "LT": lambda a: a < target, "LTE": lambda a: a <= target,
               "GT": lambda a: a > target, "GTE": lambda a: a >= target}[operator]
    return lambda record: (v := get(record)) is not None and compare(v)


def _parse_sort(sorts: Any) -> tuple[str, bool] | None:
    if not sorts:
        return None
    if not isinstance(sorts, list) or len(sorts) > 1:
        raise validation_error("Only one sort is allowed")
    sort = sorts[0]
    if isinstance(sort, str):
        return (sort[1:], True) if sort.startswith("-") else (sort, False)
    if isinstance(sort, dict) and sort.get("propertyName"):
        direction = sort.get("direction", "ASCENDING")
        if direction not in ("ASCENDING", "DESCENDING"):
            raise validation_error(f"Invalid sort direction {direction!r}")
        return sort["propertyName"], direction == "DESCENDING"
    raise validation_error(f"Invalid sort {sort!r}")


def search(portal: Portal, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
    """Answer ``POST /crm/v3/objects/{type}/search`` with a CollectionResponseWithTotal body."""
    with portal.lock:
        store = portal.store(object_type)
        limit = body.get("limit", 10)
        if not isinstance(limit, int) or not 0 < limit <= MAX_LIMIT:
            raise validation_error(f"limit must be between 1 and {MAX_LIMIT}, got {limit!r}")
        try:
            offset = int(body.get("after") or 0)
        except (TypeError, ValueError):
            raise validation_error(f"Invalid 'after' value {body.get('after')!r}") from None
        if offset >= MAX_RESULTS:
            raise validation_error(
                f"Search results are limited to {MAX_RESULTS}: 'after' {offset} is past the last "
                "result a query may page to. Narrow the query (filter on a property) instead.",
                subCategory="SEARCH_RESULT_LIMIT_EXCEEDED")
        groups = body.get("filterGroups") or []
        if len(groups) > MAX_GROUPS or any(len(g.get("filters") or []) > MAX_FILTERS_PER_GROUP
                                           for g in groups) \
                or sum(len(g.get("filters") or []) for g in groups) > MAX_FILTERS:
            raise validation_error(f"Too many filters: at most {MAX_GROUPS} groups of "
                                   f"{MAX_FILTERS_PER_GROUP}, {MAX_FILTERS} in all")
        compiled = [[_compile_filter(portal, store, f) for f in g.get("filters") or []]
                    for g in groups]
        query = (body.get("query") or "").lower()
        now = now_utc()
        matches = [r for r in store.records.values()
                   if (r.indexed_at is None or r.indexed_at <= now)
                   and (not compiled or any(all(f(r) for f in group) for group in compiled))
                   and (not query or any(query in (r.values.get(p) or "").lower()
                                         for p in QUERY_PROPERTIES[store.type.name]))]
        sort = _parse_sort(body.get("sorts"))
        # Only the first offset + limit results are ever shown: select them instead of sorting all.
        needed = min(offset + limit, MAX_RESULTS)
        if sort:
            name, descending = sort
            get = _getter(portal, store, name)
            keyed = [(get(r), r) for r in matches]
            valued = [(k, r.number, r) for k, r in keyed if k is not None]
            pick = heapq.nlargest if descending else heapq.nsmallest
            ordered = [t[2] for t in pick(needed, valued, key=lambda t: (t[0], t[1]))]
            ordered += [r for k, r in keyed if k is None][:max(0, needed - len(ordered))]
        else:
            ordered = heapq.nsmallest(needed, matches, key=lambda r: (r.created, r.number))
        page = ordered[offset:needed]
        response: dict[str, Any] = {
            "total": len(matches),
            "results": list(map(portal.renderer(store, body.get("properties")), page)),
        }
        if needed < len(matches):
            # Offered even at the cap: following it is the 400 a client must learn to avoid.
            response["paging"] = {"next": {"after": str(needed)}}
        return response
