"""Tasks for record owners as HubSpot tasks: batch-created 100 a call, associated with their deal
or contact (HubSpot-defined association types 216 and 204), and carrying their key in the task
property ``journey_task_key`` so that a task created before a crash is found again by search."""
from __future__ import annotations

from typing import Any, Sequence

from .properties import to_hubspot_datetime

TASK_KEY_PROPERTY = "journey_task_key"
#: The ``PropertyCreate`` body of the key property (on tasks).
TASK_KEY_DEFINITION = {"name": TASK_KEY_PROPERTY, "label": "Journey Sync task key", "type": "string",
                       "fieldType": "text", "groupName": "task_information",
                       "description": "Written by Journey Sync: which record and occasion the task is for."}
BATCH = 100
#: Values per IN filter of one search (HubSpot allows 100).
FIND_CHUNK = 100
#: HubSpot-defined association type ids from a task to each object kind.
ASSOCIATION_TYPES = {"deal": 216, "contact": 204}
OBJECT_KINDS = tuple(ASSOCIATION_TYPES)


def task_input(task: Any) -> dict[str, Any]:
    """The batch-create input of a :class:`connectors.base.TaskSpec`: an open to-do, due on its
    date, owned by the record's owner, associated with the record."""
    properties = {"hs_task_subject": task.subject[:255], "hs_task_body": task.body,
                  "hs_timestamp": to_hubspot_datetime(task.due_at), "hs_task_status": "NOT_STARTED",
                  "hs_task_priority": "MEDIUM", "hs_task_type": "TODO", TASK_KEY_PROPERTY: task.key}
    if task.owner_id:
        properties["hubspot_owner_id"] = task.owner_id
    return {"properties": properties, "associations": [{
        "to": {"id": task.record_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED",
                   "associationTypeId": ASSOCIATION_TYPES[task.object]}]}]}


def find_request(keys: Sequence[str]) -> dict[str, Any]:
    """The search body that finds tasks carrying ``keys``."""
    return {"filterGroups": [{"filters": [{"propertyName": TASK_KEY_PROPERTY, "operator": "IN",
                                           "values": list(keys)}]}],
            "properties": [TASK_KEY_PROPERTY], "limit": 200}
