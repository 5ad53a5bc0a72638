"""Bulk API 2.0 through simple-salesforce's ``bulk2`` client: query jobs read as CSV pages, and
ingest jobs whose per-record results come back as CSV files.

simple-salesforce's high-level ``sf.bulk2.<Object>.query()``/``update()`` poll on their own,
uncounted and without our token refresh; the connector drives the same client's job calls one by
one (create, poll, results by locator, upload, close, results files) through
``SalesforceClient.call``, so each is counted, retried when transient and re-authenticated.
Every CSV cell is text: :func:`typed_rows` turns rows back into the shapes the REST API returns
(numbers, booleans, None for empty cells, parents nested as ``{"Account": {"Industry": ...}}``).
"""
from __future__ import annotations

import csv
import io
import logging
import time
from typing import Any, Callable, Iterable, Iterator, Sequence

from simple_salesforce.bulk2 import Operation

from connectors.base import CrmError, TransientError
from connectors.salesforce.client import SalesforceClient

log = logging.getLogger(__name__)

#: Rows asked for per results page. simple-salesforce holds a page as bytes, text and a cleaned
#: copy at once: 50,000 rows (its default) peaked 58 MB higher than 10,000 in a 60,000-record pull.
RESULTS_PAGE = 10_000
#: Rows handed on at a time, as a REST query page would be.
ROWS_PER_PAGE = 2_000
#: What Bulk API 2.0 writes into a cell to clear a field (an empty cell leaves it unchanged).
CLEAR = "#N/A"
DONE_STATES = ("JobComplete", "Failed", "Aborted")
#: The first wait before a job's state is asked; each wait after doubles up to ``bulk_poll_seconds``.
#: A job that ends within a second (most ingest jobs of 10,000 updates) is then seen done after
#: one or two polls instead of a whole poll interval later, for no more calls than a fixed interval.
FIRST_POLL_SECONDS = 0.25


def poll_delays(longest: float) -> Iterator[float]:
    """The waits between a job's state checks: from :data:`FIRST_POLL_SECONDS`, doubling, then
    ``longest`` for ever (simple-salesforce's own ``wait_for_job`` also starts short and grows)."""
    delay = min(FIRST_POLL_SECONDS, longest)
    while True:
        yield delay
        delay = min(delay * 2, longest)


class Columns:
    """How to read the non-text columns of a result (every other column is text)."""

    def __init__(self, numbers: Iterable[str] = (), integers: Iterable[str] = (),
                 booleans: Iterable[str] = (), datetimes: Iterable[str] = ()) -> None:
        self.convert: dict[str, Callable[[str], Any]] = {
            **{c: float for c in numbers}, **{c: lambda v: int(float(v)) for c in integers},
            **{c: lambda v: v.lower() == "true" for c in booleans}, **{c: _rest_datetime for c in datetimes}}


def _rest_datetime(text: str) -> str:
    """A Bulk CSV datetime (``2026-08-01T09:00:00.000Z``) in the REST API's form (``+0000``), so a
    record's raw fields are the same whichever API read it."""
    return text[:-1] + "+0000" if text.endswith("Z") else text


def typed_rows(text: str, columns: Columns) -> Iterator[dict[str, Any]]:
    """The records of one CSV results page, shaped like REST query records (without attributes)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        return
    plan = [(name.split("."), columns.convert.get(name)) for name in header]
    for row in reader:
        record: dict[str, Any] = {}
        for (path, convert), cell in zip(plan, row):
            value = None if cell == "" else convert(cell) if convert else cell
            target = record
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = value
        for key, value in record.items():
            # A parent that is not set comes back as null in REST, not as a dict of nulls.
            if isinstance(value, dict) and all(v is None for v in value.values()):
                record[key] = None
        yield record


class BulkJobs:
    """Bulk API 2.0 query and ingest jobs on one authenticated line to Salesforce."""

    def __init__(self, client: SalesforceClient) -> None:
        self.client = client

    # ---------------------------------------------------------------------------- query
    def query(self, soql: str, sobject: str, columns: Columns) -> Iterator[list[dict[str, Any]]]:
        """Pages of at most ``ROWS_PER_PAGE`` records of ``soql`` (no ORDER BY: it would stop
        Salesforce chunking the job). One results page of text is held at a time; a consumer
        that stops early aborts the job."""
        jobs = self._jobs(sobject)
        job = self.client.call("POST jobs/query", lambda: jobs.create_job(Operation.query, soql))
        finished = False
        try:
            self._wait(sobject, job["id"], is_query=True)
            locator = ""
            while True:
                page = self.client.call("GET jobs/query/{id}/results", lambda: self._jobs(sobject).get_query_results(
                    job["id"], locator, RESULTS_PAGE))
                rows: list[dict[str, Any]] = []
                for record in typed_rows(page["records"], columns):
                    rows.append(record)
                    if len(rows) >= ROWS_PER_PAGE:
                        yield rows
                        rows = []
                if rows:
                    yield rows
                locator = page["locator"]
                if not locator:
                    break
            finished = True
        finally:
            if not finished:
                self._abort(sobject, job["id"], is_query=True)

    # --------------------------------------------------------------------------- ingest
    def ingest(self, sobject: str, operation: str, csv_text: str) -> dict[str, str]:
        """Run one ingest job over ``csv_text`` and return its results files as CSV text:
        ``successfulResults``, ``failedResults``, ``unprocessedrecords``."""
        jobs = self._jobs(sobject)
        job = self.client.call("POST jobs/ingest", lambda: jobs.create_job(Operation(operation)))
        try:
            self.client.call("PUT jobs/ingest/{id}/batches",
                             lambda: self._jobs(sobject).upload_job_data(job["id"], csv_text))
            self.client.call("PATCH jobs/ingest/{id}", lambda: self._jobs(sobject).close_job(job["id"]))
            self._wait(sobject, job["id"], is_query=False)
        except BaseException:
            self._abort(sobject, job["id"], is_query=False)
            raise
        return {kind: self.client.call(f"GET jobs/ingest/{{id}}/{kind}",
                                       lambda kind=kind: self._jobs(sobject).get_ingest_results(job["id"], kind))
                for kind in ("successfulResults", "failedResults", "unprocessedrecords")}

    # ------------------------------------------------------------------------ machinery
    def _jobs(self, sobject: str) -> Any:
        # Built on each use: simple-salesforce's bulk2 handler takes the session's current token.
        return getattr(self.client.sf.bulk2, sobject)._client

    def _wait(self, sobject: str, job_id: str, *, is_query: bool) -> None:
        """Poll the job until it is done; a failed, aborted or overdue job is a TransientError
        (the next sync tries again; the caller aborts a job it stops waiting for)."""
        settings = self.client.settings
        route = f"GET jobs/{'query' if is_query else 'ingest'}/{{id}}"
        deadline = time.monotonic() + settings.bulk_wait_seconds
        for delay in poll_delays(settings.bulk_poll_seconds):
            # a job just created or closed is never done yet: wait before the first check too
            time.sleep(delay)
            info = self.client.call(route, lambda: self._jobs(sobject).get_job(job_id, is_query))
            state = info.get("state")
            if state == "JobComplete":
                return
            if state in DONE_STATES:
                raise TransientError(f"Salesforce Bulk API job {job_id} ended {state}: "
                                     f"{info.get('errorMessage') or 'no reason given'}", code="BULK_JOB_" + state.upper())
            if time.monotonic() > deadline:  # the caller aborts the job
                raise TransientError(f"Salesforce Bulk API job {job_id} still {state} after "
                                     f"{settings.bulk_wait_seconds:g} s", code="BULK_JOB_TIMEOUT")

    def _abort(self, sobject: str, job_id: str, *, is_query: bool) -> None:
        """Abort a job we no longer wait for, so it stops spending the org's bulk limits."""
        route = f"PATCH jobs/{'query' if is_query else 'ingest'}/{{id}}"
        try:
            self.client.call(route, lambda: self._jobs(sobject).abort_job(job_id, is_query))
        except CrmError as exc:  # it may have finished meanwhile; nothing else to do
            log.info("salesforce: abort of bulk job %s refused: %s", job_id, exc.code)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """CSV (LF line endings, every cell quoted) for an upload."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
