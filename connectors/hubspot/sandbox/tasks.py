"""Creating tasks: ``POST /crm/v3/objects/tasks/batch/create``, as HubSpot serves it.

At most 100 inputs; each needs ``hs_timestamp`` (the due date) and valid property values, and its
``associations`` must name existing records with HubSpot's default task association types (204:
task to contact, 216: task to deal). Any invalid input rejects the whole batch with a 400; a
valid batch answers 201 with one object per input, in order. Tasks are then read, searched and
updated like any object (``/crm/v3/objects/tasks``), with ``associations=deals`` on reads.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, jsonify, request

from .schema import CONTACTS, DEALS, TASKS
from .wire import iso_ms, now_utc, validation_error

if TYPE_CHECKING:
    from .store import Portal

MAX_BATCH = 100
#: HubSpot-defined association type ids from a task.
TASK_ASSOCIATION_TYPES = {204: CONTACTS, 216: DEALS}


def _links(portal: Portal, index: int, associations: Any) -> list[tuple[str, str]]:
    if not isinstance(associations, list):
        raise validation_error(f"inputs[{index}].associations must be a list")
    links = []
    for a in associations:
        types = (a or {}).get("types") or [{}]
        kind = TASK_ASSOCIATION_TYPES.get(types[0].get("associationTypeId"))
        if kind is None or types[0].get("associationCategory") != "HUBSPOT_DEFINED":
            raise validation_error(f"inputs[{index}].associations: unknown association type "
                                   f"{types[0]!r} (task to contact is 204, task to deal 216)")
        to_id = str(((a or {}).get("to") or {}).get("id", ""))
        if to_id not in portal.stores[kind.name].records:
            raise validation_error(f"inputs[{index}].associations: {kind.label} {to_id} does not exist",
                                   subCategory="crm.associations.INVALID_OBJECT_IDS")
        links.append((kind.name, to_id))
    return links


def create_tasks(portal: Portal, inputs: Any) -> list[dict[str, Any]]:
    """Validate every input, then create them all; the new objects in input order."""
    if not isinstance(inputs, list) or not inputs:
        raise validation_error("Invalid input JSON: 'inputs' must be a non-empty list")
    if len(inputs) > MAX_BATCH:
        raise validation_error(f"Batch input limit exceeded: at most {MAX_BATCH} inputs")
    store = portal.stores[TASKS.name]
    checked = []
    for index, item in enumerate(inputs):
        properties = (item or {}).get("properties")
        if not isinstance(properties, dict):
            raise validation_error(f"inputs[{index}].properties must be an object")
        if not properties.get("hs_timestamp"):
            raise validation_error(f"inputs[{index}]: hs_timestamp is required for a task",
                                   subCategory="REQUIRED_PROPERTY")
        clean = portal.validate(store, None, properties)
        checked.append((clean, _links(portal, index, (item or {}).get("associations") or [])))
    created = []
    for clean, links in checked:
        record = portal.new_record(store)
        portal.apply(store, record, {"hs_task_status": "NOT_STARTED", **clean}, source="INTEGRATION",
                     source_id=None)
        portal.task_links[record.id] = links
        created.append(portal.render(store, record, list(clean)))
    return created


def register(app: Flask, portal: Portal) -> None:
    """Add the task batch-create route to the sandbox app."""

    @app.post("/crm/v3/objects/tasks/batch/create")
    @app.post("/crm/v3/objects/0-27/batch/create")
    def create_task_batch() -> Any:
        started = iso_ms(now_utc())
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise validation_error("Invalid input JSON: expected an object with 'inputs'")
        with portal.lock:
            results = create_tasks(portal, body.get("inputs"))
        return jsonify({"status": "COMPLETE", "results": results, "startedAt": started,
                        "completedAt": iso_ms(now_utc())}), 201
