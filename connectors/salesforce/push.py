"""Writing FieldUpdates: 1,000 records a call (one ``POST composite`` of five ``composite/sobjects``
collections of 200, ``allOrNone: false`` at both levels), per-record verdicts, jittered retries of
locked rows, and a stop at the quota ceiling.

Salesforce processes a collection in chunks, one per run of consecutive records of one type, and
refuses a request of more than 10 chunks: updates are grouped by object type before batching, so a
collection holds at most one chunk per type whatever order the caller gave. A collection refused as
a whole (a 4xx subrequest: no verdict on any one record) leaves its records backing off in the
outbox while the other collections of the call are written.

A push of at least a Bulk job's worth (``BULK_JOB_RECORDS``, or ``bulk_threshold`` when lower;
the flush hands over that many only when ``bulk_threshold`` updates are due) goes as Bulk API 2.0
ingest jobs instead, one per object type and ``BULK_JOB_RECORDS``; the job's successful and failed
results files give the same per-record verdicts (``sf__Error`` is ``CODE:message:fields --``,
mapped through the same error table)."""
from __future__ import annotations

import csv
import io
import itertools
import logging
from typing import Any, Iterator, Mapping, Sequence

from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_random_exponential

from connectors.actions import Action
from connectors.base import CrmError, FieldUpdate, Progress, WriteResult, batched
from connectors.rest import BatchSink
from connectors.salesforce import records, soql
from connectors.salesforce.composite import RECORDS_PER_CALL, WHOLE, write_records
from connectors.salesforce.bulk import CLEAR, BulkJobs, csv_text
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.errors import record_action

log = logging.getLogger(__name__)
#: Records per ingest job (2 MB of CSV; Salesforce takes 150,000,000 bytes a job): also what the
#: flush claims from the outbox at a time, which bounds the sync's memory while writing.
BULK_JOB_RECORDS = 10_000
Item = tuple[int, FieldUpdate, dict[str, Any]]


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
        sendable: list[Item] = []
        for index, update in enumerate(updates):
            try:
                sendable.append((index, update, self._body(update)))
            except CrmError as exc:
                results[index] = _failed(update, exc.code, exc.message, Action.FAIL_RECORD)
        sendable.sort(key=lambda item: item[2]["attributes"]["type"])  # stable: order kept per type

        def failed(item: Item, exc: CrmError) -> WriteResult:
            return _failed(item[1], exc.code, exc.message, Action.BACKOFF)

        threshold = self.client.settings.bulk_threshold
        if threshold and len(sendable) >= min(threshold, BULK_JOB_RECORDS):
            sink = BatchSink(BULK_JOB_RECORDS, self._send_job, failed=failed, split=_by_type)
        else:
            sink = BatchSink(RECORDS_PER_CALL, lambda batch: self._send_batch([(u, body) for _, u, body in batch]),
                             failed=failed)
        for (index, _, _), verdict in sink.write(sendable, progress=progress):
            results[index] = verdict
        return [r for r in results if r is not None]

    def _body(self, update: FieldUpdate) -> dict[str, Any]:
        if update.object not in soql.SOBJECTS:
            raise CrmError(f"Salesforce cannot write object kind {update.object!r}", code="INVALID_TYPE")
        return {"attributes": {"type": soql.SOBJECTS[update.object]}, "Id": update.id,
                **records.to_api_values(update.values, self.api_names)}

    def _send_job(self, batch: list[Item]) -> list[WriteResult]:
        """One Bulk API 2.0 update job for ``batch`` (one object type); a verdict per update."""
        sobject = batch[0][2]["attributes"]["type"]
        columns = sorted({name for _, _, body in batch for name in body} - {"attributes", "Id"})
        rows = ([body["Id"], *(_cell(body, name) for name in columns)] for _, _, body in batch)
        files = BulkJobs(self.client).ingest(sobject, "update", csv_text(["Id", *columns], rows))
        verdicts: dict[str, tuple[str, str, Action] | None] = {}
        for row in _rows(files["successfulResults"]):
            verdicts[row["Id"]] = None
        for row in _rows(files["failedResults"]):
            code, message = _error(row.get("sf__Error", ""))
            verdicts[row["Id"]] = (code, message, record_action(code))
        for row in _rows(files["unprocessedrecords"]):
            verdicts.setdefault(row["Id"], ("NOT_PROCESSED", "the Bulk API job ended before this record",
                                            Action.BACKOFF))
        out = []
        for _, update, body in batch:
            if body["Id"] not in verdicts:
                out.append(_failed(update, "NO_RESULT", "Salesforce returned no result", Action.BACKOFF))
            elif (problem := verdicts[body["Id"]]) is None:
                out.append(WriteResult(update.object, update.id, True))
            else:
                out.append(_failed(update, *problem))
        return out

    def _send_batch(self, batch: list[tuple[FieldUpdate, dict[str, Any]]]) -> list[WriteResult]:
        verdicts: dict[int, WriteResult] = {}
        pending = list(range(len(batch)))

        def attempt() -> list[int]:
            nonlocal pending
            answer = write_records(self.client, "PATCH", [batch[i][1] for i in pending])
            still_locked = []
            for index, item in zip(pending, answer):
                verdict = _verdict(batch[index][0], item)
                verdicts[index] = verdict
                if verdict.retryable and record_action(verdict.error_code or "").retryable:
                    still_locked.append(index)  # locked rows and outages clear in moments; other backoffs wait
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
    action = record_action(code)
    if item.get(WHOLE) and not action.retryable:
        action = Action.BACKOFF  # the collection was refused, not this record: try it again later
    return _failed(update, code, message, action)


def _failed(update: FieldUpdate, code: str, message: str, action: Action) -> WriteResult:
    return WriteResult(update.object, update.id, False, error_code=code, message=message, action=action)


def _by_type(items: list[Item], size: int) -> Iterator[list[Item]]:
    """Jobs of one object type each, at most ``size`` records (items come sorted by type)."""
    for _, group in itertools.groupby(items, key=lambda item: item[2]["attributes"]["type"]):
        yield from batched(list(group), size)


def _cell(body: Mapping[str, Any], name: str) -> str:
    """A CSV cell for an update: empty leaves the field unchanged, ``#N/A`` clears it."""
    if name not in body:
        return ""
    value = body[name]
    if value is None:
        return CLEAR
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _rows(text: str) -> Iterator[dict[str, str]]:
    return csv.DictReader(io.StringIO(text))


def _error(text: str) -> tuple[str, str]:
    """(statusCode, message) of an ``sf__Error`` cell: ``CODE:message:fields --``."""
    code, _, rest = text.removesuffix(" --").partition(":")
    message = rest.rpartition(":")[0] if ":" in rest else rest
    return code or "UNKNOWN_ERROR", message
