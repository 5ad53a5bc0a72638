"""Writing FieldUpdates with ``composite/sobjects``: 200 records a call, ``allOrNone: false``,
per-record verdicts, jittered retries of locked rows, and a stop at the quota ceiling.

Salesforce processes a collection in chunks, one per run of consecutive records of one type, and
refuses a request of more than 10 chunks: updates are grouped by object type before batching, so a
batch holds at most one chunk per type whatever order the caller gave."""
from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_random_exponential

from connectors.base import CrmError, FieldUpdate, Progress, QuotaReached, WriteResult, batched
from connectors.salesforce import records, soql
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.errors import RETRYABLE_RECORD_CODES

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
                results[index] = _failed(update, exc.code, exc.message, False)
        sendable.sort(key=lambda item: item[2]["attributes"]["type"])  # stable: order kept per type
        sent = 0
        for batch in batched(sendable, BATCH):
            try:
                verdicts = self._send_batch([(update, body) for _, update, body in batch])
            except CrmError as exc:
                if sent == 0 or not (exc.retryable or isinstance(exc, QuotaReached)):
                    raise
                log.warning("salesforce: write-back stopped after %d of %d updates: %s", sent, len(sendable), exc)
                for index, update, _ in sendable[sent:]:
                    results[index] = _failed(update, exc.code, exc.message, True)
                break
            for (index, _, _), verdict in zip(batch, verdicts):
                results[index] = verdict
            sent += len(batch)
            if progress is not None:
                progress("write", sent, len(sendable))
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
        return [verdicts.get(i) or _failed(batch[i][0], "NO_RESULT", "Salesforce returned no result", True)
                for i in range(len(batch))]


def _verdict(update: FieldUpdate, item: Mapping[str, Any]) -> WriteResult:
    if item.get("success"):
        return WriteResult(update.object, update.id, True)
    errors = item.get("errors") or [{}]
    code = str(errors[0].get("statusCode") or "UNKNOWN_ERROR")
    message = "; ".join(str(e.get("message", "")) for e in errors)
    return _failed(update, code, message, code in RETRYABLE_RECORD_CODES)


def _failed(update: FieldUpdate, code: str, message: str, retryable: bool) -> WriteResult:
    return WriteResult(update.object, update.id, False, error_code=code, message=message, retryable=retryable)
