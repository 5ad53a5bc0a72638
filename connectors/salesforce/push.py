"""Writing FieldUpdates with ``composite/sobjects``: 200 records a call, ``allOrNone: false``,
per-record verdicts, jittered retries of locked rows, and a stop at the quota ceiling.

Salesforce processes a collection in chunks, one per run of consecutive records of one type, and
refuses a request of more than 10 chunks: updates are grouped by object type before batching, so a
batch holds at most one chunk per type whatever order the caller gave."""
from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_random_exponential

from connectors.actions import Action
from connectors.base import CrmError, FieldUpdate, Progress, WriteResult
from connectors.rest import BatchSink
from connectors.salesforce import records, soql
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.errors import record_action

log = logging.getLogger(__name__)
BATCH = 200


class Pusher:
    """Sends write-back updates and turns Salesforce's answers into WriteResults."""

    def __init__(self, client: SalesforceClient, api_names: Mapping[str, str]) -> None:
        self.client = client
        self.api_names = api_names

    def push(self, updates: Sequence[FieldUpdate], progress: Progress | None) -> list[WriteResult]:
        """One result per update, in order. Raises only if nothing could be written at all.

        An update Salesforce could never take (unknown object kind or field, naive datetime) gets
        its own failed result and does not hold up the others.
        """
        results: list[WriteResult | None] = [None] * len(updates)
        sendable: list[tuple[int, FieldUpdate, dict[str, Any]]] = []
        for index, update in enumerate(updates):
            try:
                sendable.append((index, update, self._body(update)))
            except CrmError as exc:
                results[index] = _failed(update, exc.code, exc.message, Action.FAIL_RECORD)
        sendable.sort(key=lambda item: item[2]["attributes"]["type"])  # stable: order kept per type
        sink = BatchSink(BATCH, lambda batch: self._send_batch([(u, body) for _, u, body in batch]),
                         failed=lambda item, exc: _failed(item[1], exc.code, exc.message, Action.BACKOFF))
        for (index, _, _), verdict in sink.write(sendable, progress=progress):
            results[index] = verdict
        return [r for r in results if r is not None]

    def _body(self, update: FieldUpdate) -> dict[str, Any]:
        if update.object not in soql.SOBJECTS:
            raise CrmError(f"Salesforce cannot write object kind {update.object!r}", code="INVALID_TYPE")
        return {"attributes": {"type": soql.SOBJECTS[update.object]}, "Id": update.id,
                **records.to_api_values(update.values, self.api_names)}

    def _send_batch(self, batch: list[tuple[FieldUpdate, dict[str, Any]]]) -> list[WriteResult]:
        verdicts: dict[int, WriteResult] = {}
        pending = list(range(len(batch)))

        def attempt() -> list[int]:
            nonlocal pending
            answer = self.client.rest("PATCH composite/sobjects", "composite/sobjects", method="PATCH",
                                      json={"allOrNone": False, "records": [batch[i][1] for i in pending]})
            still_locked = []
            for index, item in zip(pending, answer or []):
                verdict = _verdict(batch[index][0], item)
                verdicts[index] = verdict
                if verdict.retryable:
                    still_locked.append(index)
            pending = still_locked
            return still_locked

        settings = self.client.settings
        Retrying(retry=retry_if_result(bool), stop=stop_after_attempt(settings.retry_attempts),
                 wait=wait_random_exponential(multiplier=settings.retry_wait_seconds,
                                              max=settings.retry_max_wait_seconds),
                 retry_error_callback=lambda state: state.outcome.result() if state.outcome else None)(attempt)
        return [verdicts.get(i) or _failed(batch[i][0], "NO_RESULT", "Salesforce returned no result", Action.BACKOFF)
                for i in range(len(batch))]


def _verdict(update: FieldUpdate, item: Mapping[str, Any]) -> WriteResult:
    if item.get("success"):
        return WriteResult(update.object, update.id, True)
    errors = item.get("errors") or [{}]
    code = str(errors[0].get("statusCode") or "UNKNOWN_ERROR")
    message = "; ".join(str(e.get("message", "")) for e in errors)
    return _failed(update, code, message, record_action(code))


def _failed(update: FieldUpdate, code: str, message: str, action: Action) -> WriteResult:
    return WriteResult(update.object, update.id, False, error_code=code, message=message, action=action)
