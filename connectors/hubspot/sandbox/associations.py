"""Deal-contact associations, served the way HubSpot serves them.

- v4 associations API: ``GET /crm/v4/objects/{from}/{id}/associations/{to}`` (paged, 500 a page),
  ``POST /crm/v4/associations/{from}/{to}/batch/read`` (at most 1,000 inputs; ids without
  associations come back as a 207 ``NO_ASSOCIATIONS_FOUND`` error), ``PUT .../associations/default/
  {to}/{toId}`` to create the default association and ``DELETE .../associations/{to}/{toId}``.
- ``associations=contacts`` on object reads adds ``"associations": {"contacts": {"results": [{"id",
  "type": "deal_to_contact"}]}}`` to each object that has some (left out when it has none).

HubSpot's default (unlabeled) association types: deal to contact 3, contact to deal 4.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Iterable

from flask import Flask, jsonify, request

from .schema import CONTACTS, DEALS, OBJECT_TYPES, TASKS, ObjectType
from .wire import iso_ms, not_found, now_utc, validation_error

if TYPE_CHECKING:
    from .store import Portal

MAX_BATCH_READ = 1000
MAX_PAGE = 500
TYPE_IDS = {(DEALS.name, CONTACTS.name): 3, (CONTACTS.name, DEALS.name): 4}


class Associations:
    """The portal's deal-contact pairs; either side reads them."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self.lock = threading.RLock()
        self.pairs: set[tuple[str, str]] = set(pairs)

    def of(self, from_type: str, record_id: str) -> list[str]:
        """Ids of the other type associated with ``record_id``, in id order."""
        with self.lock:
            if from_type == DEALS.name:
                found = [c for d, c in self.pairs if d == record_id]
            else:
                found = [d for d, c in self.pairs if c == record_id]
        return sorted(found, key=int)

    def _pair(self, from_type: str, from_id: str, to_id: str) -> tuple[str, str]:
        return (from_id, to_id) if from_type == DEALS.name else (to_id, from_id)

    def add(self, from_type: str, from_id: str, to_id: str) -> None:
        """Associate two records (either direction; it holds both ways)."""
        with self.lock:
            self.pairs.add(self._pair(from_type, from_id, to_id))

    def remove(self, from_type: str, from_id: str, to_id: str) -> None:
        """Remove an association, if there is one."""
        with self.lock:
            self.pairs.discard(self._pair(from_type, from_id, to_id))


def _types(from_type: str, to_type: str) -> tuple[ObjectType, ObjectType]:
    known = [OBJECT_TYPES.get(t) for t in (from_type, to_type)]
    if None in known:
        bad = from_type if known[0] is None else to_type
        raise validation_error(f"Unable to infer object type from: {bad}")
    source, target = known
    if (source.name, target.name) not in TYPE_IDS:
        raise validation_error(f"No association types between {source.name} and {target.name}")
    return source, target


def _association_types(source: ObjectType, target: ObjectType) -> list[dict[str, Any]]:
    return [{"category": "HUBSPOT_DEFINED", "typeId": TYPE_IDS[(source.name, target.name)],
             "label": None}]


def attach(portal: Portal, object_type: ObjectType, body: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
    """Add the ``associations`` a read asked for (``associations=contacts``) to an object body."""
    found: dict[str, Any] = {}
    for name in wanted:
        target = OBJECT_TYPES.get(name)
        if target is None:
            continue
        if object_type is TASKS:
            ids = [i for kind, i in portal.task_links.get(body["id"], []) if kind == target.name]
        elif (object_type.name, target.name) in TYPE_IDS:
            ids = portal.associations.of(object_type.name, body["id"])
        else:
            continue
        if ids:
            kind = f"{object_type.singular}_to_{target.singular}"
            found[target.name] = {"results": [{"id": i, "type": kind} for i in ids]}
    if found:
        body["associations"] = found
    return body


def register(app: Flask, portal: Portal) -> None:
    """Add the v4 associations routes to the sandbox app."""

    def existing(object_type: ObjectType, record_id: str) -> None:
        if record_id not in portal.stores[object_type.name].records:
            raise not_found(f"No {object_type.name} with id {record_id}")

    @app.get("/crm/v4/objects/<from_type>/<record_id>/associations/<to_type>")
    def list_associations(from_type: str, record_id: str, to_type: str) -> Any:
        source, target = _types(from_type, to_type)
        try:
            limit = int(request.args.get("limit", MAX_PAGE))
            after = int(request.args.get("after") or 0)
        except ValueError:
            raise validation_error("limit and after must be integers") from None
        if not 0 < limit <= MAX_PAGE:
            raise validation_error(f"limit must be between 1 and {MAX_PAGE}")
        ids = [i for i in portal.associations.of(source.name, record_id) if int(i) >= after]
        body: dict[str, Any] = {"results": [
            {"toObjectId": int(i), "associationTypes": _association_types(source, target)}
            for i in ids[:limit]]}
        if len(ids) > limit:
            body["paging"] = {"next": {"after": ids[limit], "link": None}}
        return jsonify(body)

    @app.post("/crm/v4/associations/<from_type>/<to_type>/batch/read")
    def batch_read_associations(from_type: str, to_type: str) -> Any:
        started = iso_ms(now_utc())
        source, target = _types(from_type, to_type)
        body = request.get_json(silent=True)
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list) or not all(isinstance(i, dict) and i.get("id") for i in inputs):
            raise validation_error("Invalid input JSON: 'inputs' must be a list of objects with an 'id'")
        if len(inputs) > MAX_BATCH_READ:
            raise validation_error(f"Batch input limit exceeded: {len(inputs)} inputs were sent, "
                                   f"the limit is {MAX_BATCH_READ}", subCategory="BATCH_LIMIT_EXCEEDED")
        results, empty = [], []
        for item in inputs:
            record_id = str(item["id"])
            ids = portal.associations.of(source.name, record_id)
            if not ids:
                empty.append(record_id)
                continue
            results.append({"from": {"id": record_id},
                            "to": [{"toObjectId": int(i),
                                    "associationTypes": _association_types(source, target)}
                                   for i in ids]})
        answer: dict[str, Any] = {"status": "COMPLETE", "results": results, "requestedAt": started,
                                  "startedAt": started, "completedAt": iso_ms(now_utc())}
        if not empty:
            return jsonify(answer), 200
        answer["numErrors"] = len(empty)
        answer["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND",
                             "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                             "message": f"No {target.name} is associated with {source.singular} {i}.",
                             "context": {"fromObjectId": [i]}, "links": {}, "errors": []}
                            for i in empty]
        return jsonify(answer), 207

    @app.put("/crm/v4/objects/<from_type>/<from_id>/associations/default/<to_type>/<to_id>")
    def create_default_association(from_type: str, from_id: str, to_type: str, to_id: str) -> Any:
        source, target = _types(from_type, to_type)
        with portal.lock:
            existing(source, from_id)
            existing(target, to_id)
            portal.associations.add(source.name, from_id, to_id)
        started = iso_ms(now_utc())
        specs = [((source, from_id), (target, to_id)), ((target, to_id), (source, from_id))]
        return jsonify({"status": "COMPLETE", "results": [
            {"from": {"id": a_id}, "to": {"id": b_id},
             "associationSpec": {"associationCategory": "HUBSPOT_DEFINED",
                                 "associationTypeId": TYPE_IDS[(a.name, b.name)]}}
            for (a, a_id), (b, b_id) in specs],
            "startedAt": started, "completedAt": iso_ms(now_utc())})

    @app.delete("/crm/v4/objects/<from_type>/<from_id>/associations/<to_type>/<to_id>")
    def delete_association(from_type: str, from_id: str, to_type: str, to_id: str) -> Any:
        source, _target = _types(from_type, to_type)
        portal.associations.remove(source.name, from_id, to_id)
        return "", 204
