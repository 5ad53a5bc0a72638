"""Bulk API 2.0 jobs: query jobs whose CSV results are read page by page with locators, and
ingest jobs that take CSV uploads and report per-record results as CSV.

Jobs run in a background thread after they are created (query) or closed (ingest), the way
Salesforce queues them: ``UploadComplete`` -> ``InProgress`` -> ``JobComplete`` (or ``Failed``,
``Aborted``). A query's result is written once to a file in the sandbox's folder (a snapshot of
the moment it ran) with each row's offset, so a page is a slice of that file and the sandbox's
memory does not grow with the result.
"""
from __future__ import annotations

import base64
import csv
import io
import itertools
import os
import secrets
import tempfile
import threading
import time
from array import array
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from connectors.salesforce.sandbox.org import Org, RequestError
from connectors.salesforce.sandbox.query import QueryEngine
from connectors.salesforce.sandbox.values import ValueTypeError, format_datetime, from_json, now_utc

#: Bytes one ingest job may receive in all its uploads (Salesforce: 150,000,000).
MAX_UPLOAD_BYTES = 150_000_000
#: Rows a results page holds when the client names no ``maxRecords``.
DEFAULT_MAX_RECORDS = 50_000
#: Rows an ingest job applies per lock, so REST calls are served while a big job runs.
INGEST_CHUNK = 200
TERMINAL = ("JobComplete", "Failed", "Aborted")
RESULT_KINDS = ("successfulResults", "failedResults", "unprocessedrecords")


@dataclass(slots=True)
class Job:
    """One Bulk API 2.0 job and what it has produced."""

    id: str
    kind: str  # "query" or "ingest"
    operation: str
    object: str
    api_version: str
    created: str
    state: str
    modstamp: str = ""
    processed: int = 0
    failed: int = 0
    error_message: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    # query
    plan: Any = None
    include_deleted: bool = False
    path: str | None = None
    offsets: array = field(default_factory=lambda: array("Q"))
    # ingest
    uploads: list[bytes] = field(default_factory=list)
    upload_bytes: int = 0
    results: dict[str, list[list[str]]] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        """The job as ``GET jobs/<kind>/<id>`` describes it."""
        body: dict[str, Any] = {
            "id": self.id, "operation": self.operation, "object": self.object,
            "createdById": "", "createdDate": self.created, "systemModstamp": self.modstamp or self.created,
            "state": self.state, "concurrencyMode": "Parallel", "contentType": "CSV",
            "apiVersion": float(self.api_version), "jobType": "V2Query" if self.kind == "query" else "V2Ingest",
            "lineEnding": "LF", "columnDelimiter": "COMMA", "numberRecordsProcessed": self.processed,
            "retries": 0, "totalProcessingTime": int(((self.finished or time.monotonic()) - self.started) * 1000),
        }
        if self.kind == "ingest":
            body.update({"contentUrl": f"services/data/v{self.api_version}/jobs/ingest/{self.id}/batches",
                         "numberRecordsFailed": self.failed, "apiActiveProcessingTime": 0,
                         "apexProcessingTime": 0})
        if self.error_message:
            body["errorMessage"] = self.error_message
        return body


class BulkJobs:
    """The org's Bulk API 2.0 jobs. ``delay_ms`` holds each job in its queued state that long
    before it runs (tests use it to watch a job in flight and abort it)."""

    def __init__(self, org: Org, engine: QueryEngine, folder: Callable[[], str], *, delay_ms: float = 0.0) -> None:
        self.org = org
        self.engine = engine
        self._folder = folder
        self.delay_ms = delay_ms
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    # ----------------------------------------------------------------------------- jobs
    def create_query(self, body: dict[str, Any], version: str) -> dict[str, Any]:
        """``POST jobs/query``: the SOQL is checked now (400 for what Bulk 2.0 refuses), run later;
        returns the job's info as created."""
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise RequestError(400, "API_ERROR", f"Invalid operation for a query job: {operation}")
        soql = body.get("query")
        if not isinstance(soql, str) or not soql.strip():
            raise RequestError(400, "API_ERROR", "A query is required for a query job")
        self._check_format(body)
        plan = self.engine.bulk_plan(soql)
        job = self._new("query", operation, plan.obj.name, version, "UploadComplete")
        job.plan, job.include_deleted = plan, operation == "queryAll"
        created = job.info()
        self._start(job, self._run_query)
        return created

    def create_ingest(self, body: dict[str, Any], version: str) -> Job:
        """``POST jobs/ingest``: an open job for ``insert`` or ``update`` of one object."""
        operation = body.get("operation")
        if operation not in ("insert", "update"):
            raise RequestError(400, "API_ERROR", f"Operation {operation} is not supported by this org's jobs")
        name = body.get("object")
        with self.org.lock:
            obj = next((o for o in self.org.schema.values()
                        if isinstance(name, str) and o.name.lower() == name.lower() and not o.tooling), None)
        if obj is None or not obj.writable:
            raise RequestError(400, "INVALIDENTITY", f"Entity '{name}' is not supported by the Bulk API.")
        if body.get("contentType", "CSV") != "CSV":
            raise RequestError(400, "API_ERROR", "The only content type is CSV")
        self._check_format(body)
        return self._new("ingest", operation, obj.name, version, "Open")

    def get(self, kind: str, job_id: str) -> Job:
        """The job, or 404 NOT_FOUND (a query job id asked for as an ingest job is not found too)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.kind != kind:
            raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def set_state(self, kind: str, job_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``PATCH jobs/<kind>/<id>``: ``Aborted`` for any job not finished, ``UploadComplete``
        to close an open ingest job (which queues it); returns the job's info as changed."""
        job = self.get(kind, job_id)
        wanted = body.get("state")
        with self._lock:
            if wanted == "Aborted" and job.state not in TERMINAL:
                self._finish(job, "Aborted")
                return job.info()
            if wanted == "UploadComplete" and kind == "ingest" and job.state == "Open":
                job.state = "UploadComplete"
                job.modstamp = format_datetime(now_utc())
            else:
                raise RequestError(400, "INVALIDJOBSTATE",
                                   f"Cannot change the state of a job in state {job.state} to {wanted}")
            changed = job.info()
        self._start(job, self._run_ingest)
        return changed

    def delete(self, kind: str, job_id: str) -> None:
        """``DELETE jobs/<kind>/<id>``: only a finished job (its results go with it)."""
        job = self.get(kind, job_id)
        with self._lock:
            if job.state not in TERMINAL:
                raise RequestError(400, "INVALIDJOBSTATE", f"Cannot delete a job in state {job.state}")
            del self._jobs[job_id]
        if job.path:
            os.unlink(job.path)

    # -------------------------------------------------------------------------- results
    def query_page(self, job_id: str, locator: str | None, max_records: str | None
                   ) -> tuple[bytes, int, str]:
        """(CSV bytes with the header, rows in it, next locator or ``null``) of a finished query."""
        job = self.get("query", job_id)
        if job.state != "JobComplete":
            raise RequestError(400, "INVALIDJOBSTATE", f"Results are not available for a job in state {job.state}")
        size = DEFAULT_MAX_RECORDS
        if max_records is not None:
            if not max_records.isdigit() or int(max_records) < 1:
                raise RequestError(400, "INVALID_PARAMETER", f"maxRecords must be a positive number: {max_records}")
            size = int(max_records)
        start = _offset_of(locator, len(job.offsets) - 1)
        end = min(start + size, len(job.offsets) - 1)
        with open(job.path or "", "rb") as fh:
            header = fh.read(job.offsets[0])
            fh.seek(job.offsets[start])
            rows = fh.read(job.offsets[end] - job.offsets[start]) if end > start else b""
        # Row i (from 1) starts at offsets[i - 1] and ends at offsets[i]: the header is row 0.
        following = "null" if end >= len(job.offsets) - 1 else base64.b64encode(str(end).encode()).decode()
        return header + rows, end - start, following

    def ingest_results(self, job_id: str, what: str) -> bytes:
        """One of an ingest job's results files (successful, failed or unprocessed records)."""
        job = self.get("ingest", job_id)
        if what == "unprocessedrecords" and not job.results:
            return b"".join(job.uploads)  # closed or aborted before it ran: every row, as uploaded
        if what != "unprocessedrecords" and job.state not in TERMINAL:
            raise RequestError(400, "INVALIDJOBSTATE", f"Results are not available for a job in state {job.state}")
        return _csv_bytes(job.results.get(what) or [self._result_header(job, what)])

    def upload(self, job_id: str, data: bytes) -> None:
        """``PUT jobs/ingest/<id>/batches``: CSV for an open job, 150,000,000 bytes at most in all."""
        job = self.get("ingest", job_id)
        with self._lock:
            if job.state != "Open":
                raise RequestError(400, "INVALIDJOBSTATE", f"Data can only be uploaded to an Open job, not {job.state}")
            if job.upload_bytes + len(data) > MAX_UPLOAD_BYTES:
                raise RequestError(400, "CLIENTINPUTERROR",
                                   f"The job's uploads exceed the limit of {MAX_UPLOAD_BYTES} bytes")
            job.uploads.append(data)
            job.upload_bytes += len(data)

    # ------------------------------------------------------------------------- running
    def _new(self, kind: str, operation: str, obj: str, version: str, state: str) -> Job:
        now = format_datetime(now_utc())
        job = Job(id=f"750{next(self._ids):09d}{secrets.token_hex(3).upper()}", kind=kind, operation=operation,
                  object=obj, api_version=version, created=now, state=state)
        with self._lock:
            self._jobs[job.id] = job
        return job

    def _start(self, job: Job, run: Callable[[Job], None]) -> None:
        def body() -> None:
            if self.delay_ms:
                time.sleep(self.delay_ms / 1000)
            with self._lock:
                if job.state in TERMINAL:
                    return
                job.state = "InProgress"
            try:
                run(job)
            except Exception as exc:  # a sandbox bug fails the job, as a server-side failure would
                with self._lock:
                    job.error_message = f"InternalError : {type(exc).__name__}"
                    self._finish(job, "Failed")
        threading.Thread(target=body, name=f"sf-bulk-{job.id}", daemon=True).start()

    def _finish(self, job: Job, state: str) -> None:
        if job.state in TERMINAL:
            return
        job.state = state
        job.finished = time.monotonic()
        job.modstamp = format_datetime(now_utc())

    def _run_query(self, job: Job) -> None:
        fd, path = tempfile.mkstemp(prefix=f"{job.id}-", suffix=".csv", dir=self._folder())
        offsets = array("Q")
        with os.fdopen(fd, "wb") as fh, self.org.lock:
            for row in self.engine.bulk_csv(job.plan, include_deleted=job.include_deleted):
                fh.write(_csv_line(row))
                offsets.append(fh.tell())
        with self._lock:
            job.path, job.offsets, job.processed = path, offsets, len(offsets) - 1
            self._finish(job, "JobComplete")

    def _run_ingest(self, job: Job) -> None:
        rows = csv.reader(io.StringIO(b"".join(job.uploads).decode("utf-8")))
        job.uploads.clear()
        header = next(rows, None)
        problem = self._header_problem(job, header)
        if problem:
            with self._lock:
                job.error_message = problem
                self._finish(job, "Failed")
            return
        assert header is not None
        job.results = {"successfulResults": [["sf__Id", "sf__Created", *header]],
                       "failedResults": [["sf__Id", "sf__Error", *header]],
                       "unprocessedrecords": [header]}
        pending = list(rows)
        for start in range(0, len(pending), INGEST_CHUNK):
            if job.state == "Aborted":
                job.results["unprocessedrecords"].extend(pending[start:])
                return
            with self.org.lock:
                for row in pending[start:start + INGEST_CHUNK]:
                    self._ingest_row(job, header, row)
        with self._lock:
            self._finish(job, "JobComplete")

    def _header_problem(self, job: Job, header: list[str] | None) -> str | None:
        if not header:
            return "InvalidBatch : No data uploaded"
        obj = self.org.sobject(job.object)
        with self.org.lock:
            granted = self.org.granted_fields()
            for name in header:
                if name == "Id" or self.org.visible_field(obj, name, granted) is not None:
                    continue
                return f"InvalidBatch : Field name not found : {name}"
        if job.operation == "update" and "Id" not in header:
            return "InvalidBatch : Field name not found : Id"
        return None

    def _ingest_row(self, job: Job, header: list[str], row: list[str]) -> None:
        obj = self.org.sobject(job.object)
        creating = job.operation == "insert"
        raw = dict(zip(header, row))
        record_id = raw.get("Id") or ""
        try:
            values = self._values(obj, raw)
        except ValueTypeError as exc:
            errors = [{"statusCode": "INVALID_FIELD", "message": str(exc), "fields": []}]
        else:
            if creating:
                errors = self.org.create_errors(obj, values)
            else:
                target = self.org.target_error(obj, record_id)
                errors = [target] if target else self.org.check_values(obj, values, creating=False)
        job.processed += 1
        if errors:
            job.failed += 1
            first = errors[0]
            text = f"{first['statusCode']}:{first['message']}:{','.join(first.get('fields') or [])} --"
            job.results["failedResults"].append(["", text, *row])
            return
        if creating:
            new_id = self.org.apply_create(obj, values)
            job.results["successfulResults"].append([new_id, "true", *row])
        else:
            self.org.apply_update(obj, record_id, values)
            job.results["successfulResults"].append([self.org.known_id(obj.name, record_id), "false", *row])

    def _values(self, obj: Any, raw: dict[str, str]) -> dict[str, Any]:
        """Typed values of one CSV row: an empty cell leaves a field as it is, ``#N/A`` clears it."""
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name == "Id" or value == "":
                continue
            f = self.org.visible_field(obj, name)
            if f is not None:  # the header was checked before any row ran
                values[f.name] = None if value == "#N/A" else from_json(f.type, value)
        return values

    @staticmethod
    def _result_header(job: Job, what: str) -> list[str]:
        return {"successfulResults": ["sf__Id", "sf__Created"], "failedResults": ["sf__Id", "sf__Error"]}.get(what, [])

    @staticmethod
    def _check_format(body: dict[str, Any]) -> None:
        if body.get("columnDelimiter", "COMMA") != "COMMA" or body.get("lineEnding", "LF") != "LF":
            raise RequestError(400, "API_ERROR", "This org's jobs take COMMA-delimited CSV with LF line endings")


def _offset_of(locator: str | None, rows: int) -> int:
    """The first row a locator points at (locators are opaque to clients: base64 of an offset)."""
    if not locator or locator == "null":
        return 0
    try:
        offset = int(base64.b64decode(locator, validate=True).decode())
    except (ValueError, UnicodeDecodeError):
        offset = -1
    if not 0 <= offset <= rows:
        raise RequestError(400, "INVALID_LOCATOR", f"Invalid locator: {locator}")
    return offset


def _csv_line(row: Iterable[str | None]) -> bytes:
    """One CSV line as Bulk API 2.0 writes it: every value quoted, a null as nothing."""
    return (",".join("" if v is None else '"' + v.replace('"', '""') + '"' for v in row) + "\n").encode("utf-8")


def _csv_bytes(rows: Iterable[Iterable[str | None]]) -> bytes:
    return b"".join(_csv_line(row) for row in rows)
