"""Running parsed SOQL against the org and paging results the way the REST API does.

A query is evaluated once, into a snapshot of JSON records; pages are cut from that snapshot with
``nextRecordsUrl`` locators (``/services/data/vXX.X/query/01g...-2000``). Child subquery rows count
toward the batch size, and a child list longer than the child batch gets its own locator.
"""
from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterator

from connectors.salesforce.sandbox.ids import to18
from connectors.salesforce.sandbox.org import Org, RequestError
from connectors.salesforce.sandbox.schema import ChildRelationship, FieldDef, ObjectDef
from connectors.salesforce.sandbox.soql import (
    BoolOp, Condition, Expr, FieldPath, Literal, Not, Query, located, parse,
)
from connectors.salesforce.sandbox.values import NUMERIC_TYPES, TEXT_TYPES, to_json

_WSDL_HINT = "Please reference your WSDL or the describe call for the appropriate names."
DEFAULT_BATCH = 2000
MIN_BATCH = 200
MAX_CURSORS = 2000
#: Salesforce drops a query locator unused for 15 minutes.
LOCATOR_IDLE_SECONDS = 900.0


@dataclass(slots=True)
class _Path:
    """A resolved field path: the relationship fields walked, then the final field."""

    hops: list[tuple[FieldDef, ObjectDef]]
    field: FieldDef
    source: FieldPath


@dataclass(slots=True)
class _Child:
    relationship: ChildRelationship
    obj: ObjectDef
    plan: "_Plan"


@dataclass(slots=True)
class _Plan:
    obj: ObjectDef
    items: list[_Path | _Child]
    where: Callable[[dict[str, Any]], bool] | None
    order: list[tuple[_Path, bool, bool]]
    limit: int | None
    offset: int | None


@dataclass(slots=True)
class _Cursor:
    rows: list[dict[str, Any]]
    costs: list[int]
    batch_size: int
    total: int = field(default=0)
    used_at: float = field(default_factory=time.monotonic)


class QueryEngine:
    """Compiles and runs SOQL for one org, and keeps the cursors behind ``nextRecordsUrl``."""

    def __init__(self, org: Org, *, child_batch_size: int = 200) -> None:
        self.org = org
        self.child_batch_size = child_batch_size
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._lock = threading.Lock()
        #: How long a cursor lives unused (a fault setting can shorten it).
        self.idle_seconds = LOCATOR_IDLE_SECONDS
        #: sObject -> how many more queries of it run too long (None: all of them); a fault.
        self.slow_objects: dict[str, int | None] = {}

    # --------------------------------------------------------------------------- public
    def run(self, soql: str, *, version: str, tooling: bool = False, include_deleted: bool = False,
            batch_size: int | None = None) -> dict[str, Any]:
        """The first page of ``soql``'s result (raises SoqlError or RequestError)."""
        query = parse(soql)
        with self.org.lock:
            root = self._root(query, tooling)
            if self._too_slow(root.name):
                raise RequestError(400, "QUERY_TIMEOUT", "Your query request was running for too long.")
            plan = self._compile(query, root, query.text)
            rows = self._rows(plan, None, None, include_deleted)
            if query.count_only:
                return {"totalSize": len(rows), "done": True, "records": []}
            out = [self._serialize(plan, r, version, tooling) for r in rows]
        costs = [1 + sum(len(v["records"]) for v in rec.values() if isinstance(v, dict) and "totalSize" in v)
                 for rec in out]
        size = min(max(batch_size or DEFAULT_BATCH, MIN_BATCH), DEFAULT_BATCH)
        return self._page(_Cursor(out, costs, size, len(out)), 0, version)

    def more(self, locator: str, version: str) -> dict[str, Any]:
        """The page a ``nextRecordsUrl`` locator (``<cursor>-<offset>``) points at; a cursor unused
        for ``idle_seconds`` is gone."""
        cursor_id, _, offset = locator.rpartition("-")
        now = time.monotonic()
        with self._lock:
            cursor = self._cursors.get(cursor_id)
            if cursor is not None and now - cursor.used_at > self.idle_seconds:
                del self._cursors[cursor_id]
                cursor = None
            if cursor is not None:
                cursor.used_at = now
        if cursor is None or not offset.isdigit() or int(offset) >= len(cursor.rows):
            raise RequestError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(cursor, int(offset), version, cursor_id)

    def _too_slow(self, sobject: str) -> bool:
        if sobject not in self.slow_objects:
            return False
        remaining = self.slow_objects[sobject]
        if remaining is not None:
            if remaining <= 1:
                del self.slow_objects[sobject]
            else:
                self.slow_objects[sobject] = remaining - 1
        return True

    def bulk_plan(self, soql: str) -> "_Plan":
        """``soql`` compiled for a Bulk API 2.0 query job, refusing what Bulk 2.0 refuses:
        aggregates such as ``COUNT()``, ``OFFSET`` and parent-to-child subqueries (child-to-parent
        paths such as ``Account.Industry`` are fine). Raises SoqlError or RequestError."""
        query = parse(soql)
        if query.count_only:
            raise RequestError(400, "API_ERROR", "Aggregate queries are not supported in Bulk V2 Query")
        if any(isinstance(item, Query) for item in query.fields):
            raise RequestError(400, "API_ERROR",
                               "Aggregate Relationships not supported in Bulk V2 Query with CSV content type")
        if query.offset is not None:
            raise RequestError(400, "API_ERROR", "OFFSET is not supported in Bulk V2 Query")
        with self.org.lock:
            return self._compile(query, self._root(query, False), query.text)

    def bulk_csv(self, plan: "_Plan", *, include_deleted: bool) -> Iterator[list[str | None]]:
        """The header, then one row per matching record, as Bulk API 2.0 writes them: parent fields
        as ``Account.Industry`` columns, datetimes in UTC with ``Z``, numbers as ``100.0``,
        booleans ``true``/``false``, None for an empty (null) value. Call it under the org's lock:
        the rows are a snapshot of the moment the job ran."""
        paths = [item for item in plan.items if isinstance(item, _Path)]
        yield [".".join([ref.relationship_name or ref.name for ref, _ in p.hops] + [p.field.name]) for p in paths]
        getters = [(self._getter(p), p.field.type) for p in paths]
        for record in self._rows(plan, None, None, include_deleted):
            yield [_csv_value(kind, get(record)) for get, kind in getters]

    # ------------------------------------------------------------------------ compiling
    def _root(self, query: Query, tooling: bool) -> ObjectDef:
        for obj in self.org.schema.values():
            if obj.name.lower() == query.sobject.lower() and obj.tooling == tooling:
                return obj
        raise located(query.text, query.sobject_pos, "INVALID_TYPE",
                      f"sObject type '{query.sobject}' is not supported. If you are attempting to use a custom "
                      f"object, be sure to append the '__c' after the entity name. {_WSDL_HINT}")

    def _compile(self, query: Query, obj: ObjectDef, text: str) -> _Plan:
        granted = self.org.granted_fields()
        items: list[_Path | _Child] = []
        for item in query.fields:
            if isinstance(item, Query):
                rel = next((c for n, c in obj.children.items() if n.lower() == item.sobject.lower()), None)
                if rel is None:
                    raise located(text, item.sobject_pos, "INVALID_TYPE",
                                  f"Didn't understand relationship '{item.sobject}' in FROM part of query call. "
                                  "If you are attempting to use a custom relationship, be sure to append the "
                                  f"'__r' after the custom relationship name. {_WSDL_HINT}")
                child = self.org.schema[rel.child]
                items.append(_Child(rel, child, self._compile(item, child, text)))
            else:
                items.append(self._resolve(obj, item, text, granted))
        where = self._predicate(obj, query.where, text, granted) if query.where else None
        order = [(self._resolve(obj, o.path, text, granted), o.descending, o.nulls_last) for o in query.order_by]
        return _Plan(obj, items, where, order, query.limit, query.offset)

    def _resolve(self, obj: ObjectDef, path: FieldPath, text: str, granted: dict[str, bool]) -> _Path:
        hops: list[tuple[FieldDef, ObjectDef]] = []
        current = obj
        for part in path.parts[:-1]:
            ref = current.parent_relationship(part)
            if ref is None or ref.reference_to is None:
                raise located(text, path.pos, "INVALID_FIELD",
                              f"Didn't understand relationship '{part}' in field path. If you are attempting to "
                              "use a custom relationship, be sure to append the '__r' after the custom "
                              f"relationship name. {_WSDL_HINT}")
            current = self.org.schema[ref.reference_to]
            hops.append((ref, current))
        final = self.org.visible_field(current, path.parts[-1], granted)
        if final is None:
            raise located(text, path.pos, "INVALID_FIELD",
                          f"No such column '{path.parts[-1]}' on entity '{current.name}'. If you are attempting "
                          f"to use a custom field, be sure to append the '__c' after the custom field name. "
                          f"{_WSDL_HINT}")
        return _Path(hops, final, path)

    def _predicate(self, obj: ObjectDef, expr: Expr, text: str,
                   granted: dict[str, bool]) -> Callable[[dict[str, Any]], bool]:
        if isinstance(expr, BoolOp):
            parts = [self._predicate(obj, e, text, granted) for e in expr.items]
            if expr.op == "AND":
                return lambda r: all(p(r) for p in parts)
            return lambda r: any(p(r) for p in parts)
        if isinstance(expr, Not):
            inner = self._predicate(obj, expr.item, text, granted)
            return lambda r: not inner(r)
        return self._condition(obj, expr, text, granted)

    def _condition(self, obj: ObjectDef, cond: Condition, text: str,
                   granted: dict[str, bool]) -> Callable[[dict[str, Any]], bool]:
        path = self._resolve(obj, cond.path, text, granted)
        literals = cond.value if isinstance(cond.value, tuple) else (cond.value,)
        values = [self._literal(path, lit, cond, text) for lit in literals]
        get = self._getter(path)
        norm = _normaliser(path.field.type)
        if cond.op == "LIKE":
            if path.field.type not in TEXT_TYPES:
                raise located(text, cond.pos, "INVALID_FIELD",
                              f"invalid operator on field '{path.field.name}' of type {path.field.type}")
            pattern = re.compile(_like_to_regex(str(values[0])), re.IGNORECASE | re.DOTALL)
            return lambda r: (v := get(r)) is not None and pattern.fullmatch(str(v)) is not None
        wanted = [norm(v) for v in values]
        if cond.op in ("IN", "NOT IN"):
            members = set(wanted)
            negate = cond.op == "NOT IN"
            return lambda r: (norm(get(r)) in members) != negate
        target = wanted[0]
        if cond.op in ("=", "!="):
            negate = cond.op == "!="
            return lambda r: (norm(get(r)) == target) != negate
        compare = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
                   ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}[cond.op]
        if target is None:
            return lambda r: False
        return lambda r: (v := norm(get(r))) is not None and compare(v, target)

    def _literal(self, path: _Path, lit: Literal, cond: Condition, text: str) -> Any:
        ftype = path.field.type
        value = lit.value
        if value is None:
            return None
        expected = {"datetime": ("dateTime", lambda v: isinstance(v, datetime), False),
                    "date": ("date", lambda v: isinstance(v, date) and not isinstance(v, datetime), False),
                    "boolean": ("boolean", lambda v: isinstance(v, bool), False),
                    "int": ("double", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), False)}
        for numeric in NUMERIC_TYPES:
            expected[numeric] = expected["int"]
        kind, ok, quoted = expected.get(ftype, ("string", lambda v: isinstance(v, str), True))
        if lit.quoted != quoted or not ok(value):
            enclosed = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
            raise located(text, cond.pos, "INVALID_FIELD",
                          f"value of filter criterion for field '{path.field.name}' must be of type {kind} "
                          f"and {enclosed}")
        return value

    def _getter(self, path: _Path) -> Callable[[dict[str, Any]], Any]:
        records = self.org.records
        final, value_of = path.field, self.org.value_of
        hops = [(ref.name, target.name) for ref, target in path.hops]

        def get(record: dict[str, Any]) -> Any:
            current: dict[str, Any] | None = record
            for ref_name, target in hops:
                parent_id = current.get(ref_name) if current else None
                current = records[target].get(parent_id) if parent_id else None
            return value_of(final, current) if current else None
        return get

    # ------------------------------------------------------------------------- running
    def _rows(self, plan: _Plan, parent_field: str | None, parent_id: str | None,
              include_deleted: bool) -> list[dict[str, Any]]:
        table = self.org.records[plan.obj.name]
        if parent_field is not None:
            candidates = [table[i] for i in self.org.child_ids(plan.obj.name, parent_field, parent_id or "")]
        else:
            candidates = list(table.values())
        rows = [r for r in candidates if (include_deleted or not r.get("IsDeleted"))
                and (plan.where is None or plan.where(r))]
        for path, descending, nulls_last in reversed(plan.order):
            get, norm = self._getter(path), _normaliser(path.field.type)
            present = [r for r in rows if get(r) is not None]
            missing = [r for r in rows if get(r) is None]
            present.sort(key=lambda r: norm(get(r)), reverse=descending)
            rows = present + missing if nulls_last else missing + present
        start = plan.offset or 0
        end = None if plan.limit is None else start + plan.limit
        return rows[start:end]

    def _serialize(self, plan: _Plan, record: dict[str, Any], version: str, tooling: bool) -> dict[str, Any]:
        out = {"attributes": _attributes(plan.obj, record["Id"], version, tooling)}
        for item in plan.items:
            if isinstance(item, _Child):
                children = self._rows(item.plan, item.relationship.field, record["Id"], False)
                out[item.relationship.name] = self._child_result(item, children, version, tooling)
                continue
            target: dict[str, Any] | None = out
            current: dict[str, Any] | None = record
            for ref, parent_obj in item.hops:
                parent_id = current.get(ref.name) if current else None
                current = self.org.records[parent_obj.name].get(parent_id) if parent_id else None
                if target is None:
                    break
                if current is None:
                    target.setdefault(ref.relationship_name, None)
                    target = None
                    break
                nested = target.get(ref.relationship_name)
                if nested is None:
                    nested = {"attributes": _attributes(parent_obj, current["Id"], version, tooling)}
                    target[ref.relationship_name] = nested
                target = nested
            if target is not None and current is not None:
                target[item.field.name] = to_json(item.field.type, self.org.value_of(item.field, current))
        return out

    def _child_result(self, item: _Child, children: list[dict[str, Any]], version: str,
                      tooling: bool) -> dict[str, Any] | None:
        if not children:
            return None
        rows = [self._serialize(item.plan, c, version, tooling) for c in children]
        if len(rows) <= self.child_batch_size:
            return {"totalSize": len(rows), "done": True, "records": rows}
        cursor = _Cursor(rows, [1] * len(rows), self.child_batch_size, len(rows))
        cursor_id = self._store(cursor)
        return {"totalSize": len(rows), "done": False,
                "nextRecordsUrl": f"/services/data/v{version}/query/{cursor_id}-{self.child_batch_size}",
                "records": rows[:self.child_batch_size]}

    # -------------------------------------------------------------------------- paging
    def _store(self, cursor: _Cursor) -> str:
        cursor_id = "01g" + secrets.token_hex(8)
        with self._lock:
            self._cursors[cursor_id] = cursor
            while len(self._cursors) > MAX_CURSORS:
                self._cursors.popitem(last=False)
        return cursor_id

    def _page(self, cursor: _Cursor, start: int, version: str, cursor_id: str | None = None) -> dict[str, Any]:
        end, cost = start, 0
        while end < len(cursor.rows) and (end == start or cost + cursor.costs[end] <= cursor.batch_size):
            cost += cursor.costs[end]
            end += 1
        page: dict[str, Any] = {"totalSize": cursor.total, "done": end >= len(cursor.rows)}
        if end < len(cursor.rows):
            cursor_id = cursor_id or self._store(cursor)
            page["nextRecordsUrl"] = f"/services/data/v{version}/query/{cursor_id}-{end}"
        page["records"] = cursor.rows[start:end]
        return page


def _attributes(obj: ObjectDef, record_id: str, version: str, tooling: bool) -> dict[str, str]:
    api = "tooling/" if tooling else ""
    return {"type": obj.name, "url": f"/services/data/v{version}/{api}sobjects/{obj.name}/{record_id}"}


def _csv_value(field_type: str, value: Any) -> str | None:
    if value is None:
        return None
    if field_type == "datetime":
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if field_type == "boolean":
        return "true" if value else "false"
    if field_type in NUMERIC_TYPES:
        return repr(float(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _normaliser(field_type: str) -> Callable[[Any], Any]:
    if field_type in ("id", "reference"):
        return lambda v: to18(v).lower() if isinstance(v, str) else v
    if field_type in TEXT_TYPES:
        return lambda v: v.lower() if isinstance(v, str) else v
    if field_type in NUMERIC_TYPES or field_type == "int":
        return lambda v: float(v) if v is not None else None
    return lambda v: v


def _like_to_regex(pattern: str) -> str:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return "".join(out)
