"""Tasks for record owners as Salesforce ``Task`` records: created 1,000 a call (one ``POST
composite`` of five ``composite/sobjects`` inserts of 200, ``allOrNone: false``), linked by ``WhatId`` (an opportunity) or
``WhoId`` (a lead or contact), and carrying their key in the activity custom field
``Journey_Task_Key__c`` so that a task created before a crash is found again by SOQL."""
from __future__ import annotations

from typing import Any, Sequence

from connectors.base import TaskResult, TaskSpec, batched
from connectors.salesforce import soql
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.composite import RECORDS_PER_CALL, WHOLE, write_records
from connectors.salesforce.errors import record_action

#: The activity custom field holding a task's key (created on ``Activity``, shown on ``Task``).
TASK_KEY_FIELD = "Journey_Task_Key__c"
#: Keys per lookup query (keys run to about 80 characters; SOQL text stays far under its limit).
FIND_CHUNK = 100
#: Which link field names a record of each object kind.
LINK_FIELD = {"opportunity": "WhatId", "lead": "WhoId", "contact": "WhoId"}


def task_body(task: TaskSpec) -> dict[str, Any]:
    """The ``Task`` record for ``task``: open, normal priority, due on its date, owned by the
    record's owner (the connected user when the record has none)."""
    body: dict[str, Any] = {
        "attributes": {"type": "Task"}, "Subject": task.subject[:255], "Description": task.body,
        "ActivityDate": task.due_at.date().isoformat(), "Status": "Not Started",
        "Priority": "Normal", LINK_FIELD[task.object]: task.record_id, TASK_KEY_FIELD: task.key}
    if task.owner_id and task.owner_id.startswith("005"):
        body["OwnerId"] = task.owner_id  # a queue (00G) cannot own a task
    return body


def create_tasks(client: SalesforceClient, tasks: Sequence[TaskSpec]) -> list[TaskResult]:
    """Create ``tasks``; one result per task, in order. Unknown object kinds fail alone."""
    results: dict[str, TaskResult] = {}
    sendable = []
    for task in tasks:
        if task.object not in LINK_FIELD:
            results[task.key] = TaskResult(task.key, False, error_code="INVALID_TYPE",
                                           message=f"Salesforce tasks cannot link a {task.object!r}")
        else:
            sendable.append(task)
    for batch in batched(sendable, RECORDS_PER_CALL):
        answer = write_records(client, "POST", [task_body(t) for t in batch])
        for task, item in zip(batch, answer):
            results[task.key] = _verdict(task, item)
    return [results.get(t.key) or TaskResult(t.key, False, error_code="NO_RESULT",
                                             message="Salesforce returned no result", retryable=True)
            for t in tasks]


def find_tasks(client: SalesforceClient, keys: Sequence[str]) -> dict[str, str]:
    """Task ids by key, for the keys a task already carries."""
    found: dict[str, str] = {}
    for chunk in batched(sorted(set(keys)), FIND_CHUNK):
        for page in client.query(f"SELECT Id, {TASK_KEY_FIELD} FROM Task WHERE {TASK_KEY_FIELD} IN "
                                 + soql.id_list(chunk)):
            found.update({r[TASK_KEY_FIELD]: r["Id"] for r in page["records"]})
    return found


def _verdict(task: TaskSpec, item: dict[str, Any]) -> TaskResult:
    if item.get("success"):
        return TaskResult(task.key, True, crm_id=item.get("id"))
    errors = item.get("errors") or [{}]
    code = str(errors[0].get("statusCode") or "UNKNOWN_ERROR")
    return TaskResult(task.key, False, error_code=code,
                      message="; ".join(str(e.get("message", "")) for e in errors),
                      retryable=bool(item.get(WHOLE)) or record_action(code).retryable)
