"""One sync of one connection: pull -> classify -> plan -> outbox -> push -> record the run.

The functions here take a :class:`~integration.services.Services` and a connection id and keep no
state of their own between calls, so they run the same in the CLI, the embedded worker or a task
queue. A sync that dies at any point is finished by the next one: records are stored page by page,
the watermark moves only after a complete pull, and the outbox resumes (see ``flush``).
"""
from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Sequence

from sqlmodel import Field

from connectors.actions import Action
from connectors.base import Connector, CrmError
from integration.services import Services
from integration.store import records as record_store
from integration.store.planner_statistics import SYNC_TABLES, Statistics
from integration.store.connections import connection_by_id
from integration.store.links import person_values_of
from integration.store.models import Connection, RunCounters, SyncRun
from integration.store.types import utcnow
from integration.sync import standing
from integration.sync.flush import FlushResult, flush_outbox
from integration.sync.lease import Lease, LeaseLost
from integration.sync.verdicts import Judged, Saved, judge, save_page
from integration.sync.map_in_force import choices_changed, map_in_force
from integration.sync.owners import name_owners
from integration.sync.people import people_pass
from integration.sync.prior import StoredRecords
from integration.sync.reevaluate import reevaluate
from integration.sync.tasks import run_tasks
from mapping import writeback_choices
from mapping.people import PERSON
from mapping.records import CrmRecord

log = logging.getLogger("journey.sync")

#: Records stored per database transaction while pulling.
PAGE = 500

Progress = Callable[[str, int, int | None], None]


class TimeLimitReached(Exception):
    """A sync ran past the configured time limit and stopped; the next one continues."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"stopped at the time limit of {seconds:g} s per sync "
                         "(JOURNEY_SYNC_TIME_LIMIT); the next sync continues")


class SyncSummary(RunCounters):
    """What a run did; the CLI prints it as JSON and the store keeps its counters on the run row."""

    run_id: int | None
    status: str = "succeeded"
    unmapped: int = 0
    calls_by_route: dict[str, int] = Field(default_factory=dict)
    errors: dict[str, int] = Field(default_factory=dict)
    message: str | None = None
    #: When a CRM error ended the run early, the action its connector's error table called for.
    action: Action | None = None
    stages: dict[str, int] = Field(default_factory=dict)
    #: Records whose stored state was written (new, or changed in what the journey depends on).
    stored: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        return self.model_dump(mode="json")

    def count_error(self, code: str, n: int = 1) -> None:
        """Count ``n`` failures with the CRM's error ``code``."""
        self.errors[code] = self.errors.get(code, 0) + n


def sync_connection(services: Services, connection_id: int, *, full: bool = False,
                    dry_run: bool = False, now: datetime | None = None,
                    ids: Mapping[str, Sequence[str]] | None = None, run_id: int | None = None,
                    requested_by: str = "cli", progress: Progress | None = None,
                    lease: Lease | None = None) -> SyncSummary:
    """Sync one connection and record the run. Never raises for CRM failures: they land in the run.

    ``ids`` limits the pull to those records (webhook-driven targeted sync; the watermark stays).
    ``dry_run`` classifies and plans without storing or writing anything. ``lease``, the
    connection's lease this process holds, fences every write (see :mod:`integration.sync.lease`).
    """
    started = time.monotonic()
    deadline = started + services.settings.sync_time_limit_seconds
    now = now or utcnow()
    with services.session() as session:
        conn = connection_by_id(session, connection_id)
        run = _open_run(session, connection_id, run_id, full=full, dry_run=dry_run,
                        requested_by=requested_by)
        in_force = map_in_force(session, connection_id)
        jmap = in_force.jmap
        since = None if (full or ids) else conn.watermark
        cursor = None if (full or ids) else conn.pull_cursor
        map_changed = in_force.row_id != conn.map_version_synced
        new_choices = map_changed and not dry_run and choices_changed(
            session, conn.map_version_synced, jmap)
    summary = SyncSummary(run_id=run.id)
    error: BaseException | None = None
    try:
        connector = services.open_connector(conn)
    except CrmError as exc:
        # Settings the connector rejects (an http:// URL): the run fails once, cleanly.
        summary.status, summary.message, summary.action = "failed", str(exc), exc.action
        summary.count_error(exc.code)
        _finish(services, connection_id, run.id, summary, None, started, exc, dry_run)
        return summary
    try:
        if new_choices:
            # The CRM's choice fields must offer the new map's stages and personas before
            # anything planned under that map is written (the CRM rejects unknown options).
            connector.provision(writeback_choices(jmap))
        newest, next_cursor = _pull_and_plan(
            services, connector, connection_id, jmap, now, since=since, cursor=cursor, ids=ids,
            dry_run=dry_run, run_id=run.id, summary=summary, progress=progress,
            map_changed=map_changed, deadline=deadline, lease=lease)
        if not dry_run:
            with services.session() as session:
                conn = connection_by_id(session, connection_id)
                if ids is None and newest is not None:
                    conn.watermark = max(newest, conn.watermark) if conn.watermark else newest
                if ids is None and next_cursor is not None:
                    conn.pull_cursor = next_cursor
                conn.last_sync_at = now
                session.add(conn)
            reevaluated = map_changed and ids is None and since is not None
            if map_changed and ids is None:
                if reevaluated:
                    # A new map re-classifies every stored record, not only those the CRM
                    # changed (a full pull has just re-classified them all).
                    reevaluate(services, connection_id, now=now, refresh_events=True)
                with services.session() as session:
                    conn = connection_by_id(session, connection_id)
                    conn.map_version_synced = in_force.row_id
                    session.add(conn)
            if summary.stored and not reevaluated:
                # Records stored anew may link, unlink or move people. A sync that stored none
                # (it read nothing, or only the echo of our own write-back) moved no one (time is
                # the stall pass's to apply), and a re-evaluation ran the pass itself.
                people_pass(services, connection_id, now, run.id)
            name_owners(services, connection_id, connector, refresh=full)
            for code, n in run_tasks(services, connection_id, connector, now,
                                     lease).errors.items():
                summary.count_error(code, n)
            _count_flush(summary, flush_outbox(services, connection_id, connector,
                                               progress=progress, deadline=deadline,
                                               lease=lease))
        if summary.failed and summary.status == "succeeded":
            summary.status = "partial"
    except TimeLimitReached as exc:
        summary.status, summary.message = "partial", str(exc)
        summary.count_error("TIME_LIMIT")
    except LeaseLost as exc:
        # Another process holds the connection now and goes on from here (what this run had in
        # flight is its to settle): stopped like a run at its time limit, not a failing connection.
        summary.status, summary.message = "partial", str(exc)
        summary.count_error("LEASE_LOST")
    except CrmError as exc:
        # The connector's error table decided the action; a spent quota pauses, the rest fail
        # the run (REAUTHORIZE: the connection needs reconnecting; BACKOFF: the next run retries).
        summary.status = "paused" if exc.action is Action.PAUSE_QUOTA else "failed"
        summary.message, summary.action, error = str(exc), exc.action, exc
        summary.count_error(exc.code)
    except Exception as exc:
        # A bug or a database failure: the run must not stay "running"; the traceback goes to the
        # log and the caller, the run keeps only the exception's type (its text may quote data).
        summary.status, summary.message = "failed", f"internal error ({type(exc).__name__})"
        summary.count_error("INTERNAL_ERROR")
        _finish(services, connection_id, run.id, summary, connector, started, exc, dry_run)
        raise
    _finish(services, connection_id, run.id, summary, connector, started, error, dry_run)
    log.info("sync of connection %s %s: read %d, changed %d, written %d, failed %d, %d API calls",
             connection_id, summary.status, summary.read, summary.changed, summary.written,
             summary.failed, summary.api_calls)
    return summary


def _count_flush(summary: SyncSummary, flushed: FlushResult) -> None:
    """Add what a flush wrote and failed to the run; a flush the CRM stopped ends it early."""
    summary.written += flushed.written
    summary.failed += flushed.failed
    for code, n in flushed.errors.items():
        summary.count_error(code, n)
    if flushed.stopped:
        summary.status = "paused" if flushed.action is Action.PAUSE_QUOTA else "partial"
        summary.message, summary.action = flushed.stopped, flushed.action


def _finish(services: Services, connection_id: int, run_id: int, summary: SyncSummary,
            connector: Connector | None, started: float, error: BaseException | None,
            dry_run: bool) -> None:
    """Close the run and update the connection's standing (backoff, needs reconnecting).

    A connection deleted meanwhile has neither run nor standing left to record.
    """
    if connector is not None:
        summary.api_calls = connector.usage.calls
        summary.calls_by_route = dict(connector.usage.by_route)
    summary.duration_ms = int((time.monotonic() - started) * 1000)
    with services.session() as session:
        _close_run(session, run_id, summary, connector)
        conn = session.get(Connection, connection_id)
        if conn is None or dry_run:
            return
        if summary.status == "failed" or summary.action in standing.REAUTHORIZE:
            standing.note_failure(session, conn, error, services.settings, utcnow(),
                                  reauthorize=summary.action in standing.REAUTHORIZE)
        else:
            standing.note_success(conn)
            session.add(conn)


def _pull_and_plan(services: Services, connector: Connector, connection_id: int, jmap: Any,
                   now: datetime, *, since: datetime | None, cursor: Any,
                   ids: Mapping[str, Sequence[str]] | None, dry_run: bool, run_id: int | None,
                   summary: SyncSummary, progress: Progress | None,
                   map_changed: bool, deadline: float,
                   lease: Lease | None) -> tuple[datetime | None, Any]:
    """Pull records page by page, classify and plan each, store them (every journey anew when
    the map changed), and send the page's write-backs while the pull goes on.

    Write-backs of records no person links can re-plan (deals) leave through the outbox as pages
    arrive, in whole batches, so a sync stopped deep into a long pull has written what it
    planned; those of people wait for the people pass after the pull (a new link changes them).

    Returns the newest stamp read and the connector's cursor for the next pull (None if it gives
    none). Raises :class:`TimeLimitReached` past ``deadline`` (``time.monotonic()``), after
    storing the page in hand: the next sync picks up from the unchanged watermark."""
    newest: datetime | None = None
    page: list[CrmRecord] = []
    statistics = Statistics(SYNC_TABLES)
    sent: set[str] = set()

    def store_page() -> None:
        saved = _plan_page(services, connection_id, page, jmap, now, dry_run=dry_run,
                           run_id=run_id, summary=summary, map_changed=map_changed)
        summary.stored += saved.stored
        sent.update(r.object for r in page if r.identity is None or r.identity.kind != PERSON)
        page.clear()
        if dry_run:
            return
        with services.session() as session:
            statistics.grew(session, saved.new)
        if summary.status == "succeeded":
            _count_flush(summary, flush_outbox(services, connection_id, connector,
                                               progress=progress, deadline=deadline,
                                               objects=sent, expected=summary.read,
                                               lease=lease))

    pulled = connector.pull(since, ids=ids, progress=progress, cursor=cursor,
                            prior=StoredRecords(services, connection_id))
    for record in pulled:
        summary.read += 1
        if newest is None or record.modified_at > newest:
            newest = record.modified_at
        page.append(record)
        if len(page) >= PAGE:
            store_page()
        if time.monotonic() > deadline:
            if page:
                store_page()
            raise TimeLimitReached(services.settings.sync_time_limit_seconds)
    if page:
        store_page()
    if not dry_run:
        with services.session() as session:
            statistics.done(session)
    return newest, getattr(pulled, "cursor", None)


def _plan_page(services: Services, connection_id: int, page: Iterable[CrmRecord], jmap: Any,
               now: datetime, *, dry_run: bool, run_id: int | None, summary: SyncSummary,
               map_changed: bool) -> Saved:
    """Judge a page of records and store what changed (see :func:`save_page`)."""
    page = list(page)
    with services.session() as session:
        keys = [(r.object, r.id) for r in page]
        rows = record_store.states_by_key(session, connection_id, keys)
        people = person_values_of(session, connection_id, keys)
        judged = []
        for record in page:
            crm_values = dict(record.writeback)
            verdict = judge(record, jmap, now, crm_values, people.get((record.object, record.id)))
            summary.stages[verdict.state.stage] = summary.stages.get(verdict.state.stage, 0) + 1
            summary.unmapped += verdict.state.unmapped
            summary.changed += bool(verdict.changes)
            judged.append(Judged(record, verdict, rows.get((record.object, record.id)), crm_values))
        if dry_run:
            session.rollback()
            return Saved(0, 0)
        return save_page(session, connection_id, judged, jmap, now, refresh_events=map_changed,
                         run_id=run_id)


def _open_run(session: Any, connection_id: int, run_id: int | None, **fields: Any) -> SyncRun:
    run = session.get(SyncRun, run_id) if run_id is not None else None
    if run is None or run.connection_id != connection_id:
        run = SyncRun(connection_id=connection_id, kind="sync", **fields)
    else:
        for key, value in fields.items():
            setattr(run, key, value)
    run.status = "running"
    run.started_at = utcnow()
    session.add(run)
    session.commit()
    return run


def _close_run(session: Any, run_id: int, summary: SyncSummary,
               connector: Connector | None) -> None:
    run = session.get(SyncRun, run_id)
    if run is None:  # deleted with its connection
        return
    run.status = summary.status
    run.finished_at = utcnow()
    for name in RunCounters.model_fields:
        setattr(run, name, getattr(summary, name))
    run.errors = dict(summary.errors)
    run.message = summary.message
    if connector is not None:
        run.quota_used = connector.usage.quota_used
        run.quota_limit = connector.usage.quota_limit
    run.progress = {"stages": summary.stages, "unmapped": summary.unmapped,
                    "calls_by_route": summary.calls_by_route,
                    "action": summary.action.value if summary.action else None}
    session.add(run)
