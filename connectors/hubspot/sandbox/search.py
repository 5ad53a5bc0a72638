"""The CRM search endpoint's semantics: filter groups, operators, one sort, offset paging, caps."""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from sortedcontainers import SortedList

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
Test = Callable[[Record], bool]


@dataclass(frozen=True)
class Span:
    """Where an indexed property's matches lie: a range of comparable values, ends included or not
    (None: open)."""

    name: str
    low: float | None = None
    low_open: bool = False
    high: float | None = None
    high_open: bool = False

    def positions(self, index: SortedList) -> tuple[int, int]:
        """The index positions [start, stop) of the entries inside the span."""
        # Entries are (value, id, record): (v,) sorts before every entry of v, (v, inf) after.
        start = 0 if self.low is None else (
            index.bisect_right((self.low, math.inf)) if self.low_open else index.bisect_left((self.low,)))
        stop = len(index) if self.high is None else (
            index.bisect_left((self.high,)) if self.high_open else index.bisect_right((self.high, math.inf)))
        return start, max(start, stop)


@dataclass(frozen=True)
class Filter:
    """One compiled filter: the test a record must pass, and its span when an index can answer it."""

    test: Test
    span: Span | None = None


def _span(store: ObjectStore, name: str, operator: str, target: Any, high: Any = None) -> Span | None:
    """The span of a comparison on an indexed property (None for other properties and for
    values that do not order, such as NaN)."""
    if name not in store.indexes or not all(math.isfinite(v) for v in (target, high) if v is not None):
        return None
    return {"EQ": Span(name, target, False, target, False), "GT": Span(name, low=target, low_open=True),
            "GTE": Span(name, low=target), "LT": Span(name, high=target, high_open=True),
            "LTE": Span(name, high=target), "BETWEEN": Span(name, target, False, high, False),
            }.get(operator)


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


def _compile_filter(portal: Portal, store: ObjectStore, spec: dict[str, Any]) -> Filter:
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
        return Filter(lambda record: (get(record) is not None) == wanted)
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
                return Filter(lambda record: (v := get(record)) is not None and (v in raw_values) == inside)
            wanted_set = {key(str(v)) for v in values}
            return Filter(lambda record: (v := get(record)) is not None and (v in wanted_set) == inside)
        value = spec.get("value")
        if value is None:
            raise validation_error(f"Filter on {name} with {operator} needs a 'value'")
        if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            token = str(value).lower().strip("*")
            has = operator == "CONTAINS_TOKEN"
            return Filter(lambda record: (token in (portal.value(store, record, name) or "").lower()) == has)
        target = key(str(value))
        if operator == "BETWEEN":
            if spec.get("highValue") is None:
                raise validation_error(f"Filter on {name} with BETWEEN needs a 'highValue'")
            high = key(str(spec["highValue"]))
            return Filter(lambda record: (v := get(record)) is not None and target <= v <= high,
                          _span(store, name, operator, target, high))
    except ValueError:
        raise validation_error(f"Filter value {spec.get('value')!r} is not valid for {name}") from None
    compare = {"EQ": lambda a: a == target, "NEQ": lambda a: a != target,
               "LT": lambda a: a < target, "LTE": lambda a: a <= target,
               "GT": lambda a: a > target, "GTE": lambda a: a >= target}[operator]
    return Filter(lambda record: (v := get(record)) is not None and compare(v),
                  _span(store, name, operator, target) if operator != "NEQ" else None)


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
        sort = _parse_sort(body.get("sorts"))
        # Only the first offset + limit results are ever shown: select them instead of sorting all.
        needed = min(offset + limit, MAX_RESULTS)
        total, page = _select(portal, store, compiled, query, sort, offset, needed)
        response: dict[str, Any] = {
            "total": total,
            "results": list(map(portal.renderer(store, body.get("properties")), page)),
        }
        if needed < total:
            # Offered even at the cap: following it is the 400 a client must learn to avoid.
            response["paging"] = {"next": {"after": str(needed)}}
        return response


def _select(portal: Portal, store: ObjectStore, groups: list[list[Filter]], query: str,
            sort: tuple[str, bool] | None, offset: int, needed: int) -> tuple[int, list[Record]]:
    """The number of matches and the matches at positions [offset, needed) of the result order.

    Only records the search index has caught up with are found. When the filters hold a range on
    an indexed property, only the narrowest such range is read; when that range is the whole
    answer (no other filter) and the sort is on its property, the page is cut from the index.
    """
    now = now_utc()
    for number, record in list(store.lagging.items()):
        if record.indexed_at is None or record.indexed_at <= now:
            del store.lagging[number]
    plan = _narrowest(store, groups, sort)
    if plan is None:
        candidates: Iterable[Record] = store.records.values()
        rest, in_order = groups, None
    else:
        filter_used, name, start, stop = plan
        index = store.indexes[name]
        rest = [[f for f in groups[0] if f is not filter_used]] if groups else []
        in_order = sort is not None and sort[0] == name
        if in_order and not query and not store.lagging and not any(rest):
            descending = sort[1]
            cut = index.islice(max(start, stop - needed), stop - offset, reverse=True) if descending \
                else index.islice(start + offset, min(start + needed, stop))
            return stop - start, [entry[2] for entry in cut]
        candidates = (entry[2] for entry in index.islice(start, stop))
    fields = QUERY_PROPERTIES[store.type.name]
    matches = [r for r in candidates
               if (r.indexed_at is None or r.indexed_at <= now)
               and (not rest or any(all(f.test(r) for f in group) for group in rest))
               and (not query or any(query in (r.values.get(p) or "").lower() for p in fields))]
    if in_order:  # read in index order: (value, id) ascending, as the sort orders them
        return len(matches), (matches[::-1] if sort[1] else matches)[offset:needed]
    return len(matches), _ordered(portal, store, matches, sort, needed)[offset:needed]


def _narrowest(store: ObjectStore, groups: list[list[Filter]], sort: tuple[str, bool] | None
               ) -> tuple[Filter | None, str, int, int] | None:
    """The filter whose index range is narrowest, its index and range; with no filter at all,
    the whole index of the sort property. None when every record must be read (several filter
    groups, or no range filter on an indexed property)."""
    if len(groups) > 1:
        return None
    filters = groups[0] if groups else []
    if not filters:
        if sort is None or sort[0] not in store.indexes \
                or len(store.indexes[sort[0]]) != len(store.records):
            return None
        return None, sort[0], 0, len(store.indexes[sort[0]])
    best: tuple[Filter | None, str, int, int] | None = None
    for candidate in filters:
        if candidate.span is not None:
            start, stop = candidate.span.positions(store.indexes[candidate.span.name])
            if best is None or stop - start < best[3] - best[2]:
                best = (candidate, candidate.span.name, start, stop)
    return best


def _ordered(portal: Portal, store: ObjectStore, matches: list[Record],
             sort: tuple[str, bool] | None, needed: int) -> list[Record]:
    """The first ``needed`` matches in result order: by the sort property (unset values last),
    else by creation."""
    if not sort:
        return heapq.nsmallest(needed, matches, key=lambda r: (r.created, r.number))
    name, descending = sort
    get = _getter(portal, store, name)
    keyed = [(get(r), r) for r in matches]
    valued = [(k, r.number, r) for k, r in keyed if k is not None]
    pick = heapq.nlargest if descending else heapq.nsmallest
    ordered = [t[2] for t in pick(needed, valued, key=lambda t: (t[0], t[1]))]
    return ordered + [r for k, r in keyed if k is None][:max(0, needed - len(ordered))]
