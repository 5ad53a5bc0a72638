"""The embedded worker: scheduled syncs, webhook-driven targeted syncs, stall passes, outbox.

Each tick hands every due connection to a small pool of threads; a connection still being worked
on from an earlier tick is skipped, so a slow or hanging CRM holds one thread, never the others.
One connection's work is :func:`work_connection`: a stateless function of the database and the
services, run under the connection's database lease (which keeps two workers -- threads,
processes, machines or task-queue workers -- off the same connection at once).
"""
from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_
from sqlmodel import select

from connectors.base import Connector
from integration.analytics_views import warm_analytics
from integration.services import Services
from integration.store.connections import NotFound, connection_by_id
from integration.store.models import Connection, CrmTask, OutboxItem
from integration.store.records import drop_queued, take_queued
from integration.store.runs import close_stale_runs, next_queued
from integration.store.types import utcnow
from integration.sync import standing
from integration.sync.due import connections_with_due_work
from integration.sync.engine import sync_connection
from integration.sync.flush import flush_outbox
from integration.sync.lease import (Busy, Lease, LeaseLost, leased, process_owner,
                                    settled_before)
from integration.sync.reevaluate import reevaluate
from integration.sync.tasks import run_tasks

log = logging.getLogger("journey.worker")


def work_connection(services: Services, connection_id: int, owner: str,
                    now: datetime | None = None) -> list[str]:
    """Do what is due for one connection, holding its lease as ``owner``. Returns what it did.

    Never raises: a connection another worker holds is left alone, one deleted meanwhile is
    reported as such, and any other failure is logged and reported, so a caller working many
    connections goes on with the next.
    """
    try:
        with leased(services, connection_id, owner) as lease:
            return _due_work(services, connection_id, now or utcnow(), lease)
    except Busy:
        return []
    except LeaseLost as exc:  # stalled past its lease: the new holder finishes the work
        log.warning("%s", exc)
        return [f"connection {connection_id}: lease lost"]
    except Exception:
        with services.session() as session:
            gone = session.get(Connection, connection_id) is None
        if gone:
            return [f"connection {connection_id}: deleted"]
        log.exception("work on connection %s failed", connection_id)
        return [f"connection {connection_id}: failed"]


def _due_work(services: Services, connection_id: int, now: datetime, lease: Lease) -> list[str]:
    settings = services.settings
    done: list[str] = []
    settled = settled_before(services)
    with services.session() as session:
        # Holding the lease, any run still "running" belongs to a process that died.
        if close_stale_runs(session, utcnow(), connection_id):
            done.append(f"closed stale runs {connection_id}")
        try:
            conn = connection_by_id(session, connection_id)
        except NotFound:
            return [f"connection {connection_id}: deleted"]
        queued_run = next_queued(session, connection_id)
        if conn.state != standing.ACTIVE or not (queued_run or standing.is_due(conn, now)):
            return done
        pending = take_queued(session, connection_id)
        due_sync = conn.last_sync_at is None or (
            conn.last_sync_at + timedelta(seconds=conn.sync_interval_seconds) <= now)
        due_stall = conn.last_stall_pass_at is None or (
            conn.last_stall_pass_at + timedelta(seconds=settings.stall_interval_seconds) <= now)
        due_items = session.exec(select(OutboxItem.id).where(
            OutboxItem.connection_id == connection_id,
            or_(and_(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now),
                # left in flight by a process that died (this one holds the lease now), and no
                # batch carrying them can still land: the flush reads them back from the CRM
                # before sending anything again
                and_(OutboxItem.status == "sending", OutboxItem.next_attempt_at <= utcnow())))
            .limit(1)).first() is not None
        # tasks never tried (asked for on the records page), and tasks a dead process left in
        # flight (looked up by key in the CRM before any is sent again)
        tasks_due = session.exec(select(CrmTask.id).where(
            CrmTask.connection_id == connection_id,
            or_(and_(CrmTask.status == "pending", CrmTask.attempts == 0),
                and_(CrmTask.status == "sending", CrmTask.updated_at <= settled)))
            .limit(1)).first() is not None
    if queued_run is not None or due_sync:
        run_id = queued_run.id if queued_run else None
        full = bool(queued_run and queued_run.full)
        summary = sync_connection(services, connection_id, full=full, run_id=run_id,
                                  requested_by="api" if queued_run else "schedule", lease=lease)
        done.append(f"sync {connection_id}: {summary.status}")
        if summary.status == "failed":
            return done  # backing off (or waiting for new credentials): nothing else now
    if pending:
        ids: dict[str, list[str]] = {}
        for row in pending:
            ids.setdefault(row.object, []).append(row.crm_id)
        summary = sync_connection(services, connection_id, ids=ids, requested_by="webhook",
                                  lease=lease)
        if summary.status != "failed":
            with services.session() as session:
                drop_queued(session, pending)
        done.append(f"targeted {connection_id}: {summary.status}")
        if summary.status == "failed":
            return done
    connector = None
    if due_items or due_stall or tasks_due:
        with services.session() as session:
            connector = services.open_connector(connection_by_id(session, connection_id))
    if due_items:
        # Before the stall pass: it plans from the CRM values we stored, which miss whatever a
        # dead process's in-flight push applied; the flush settles those against the CRM first.
        _flush(services, connection_id, connector, done, lease)
    if due_stall:
        result = reevaluate(services, connection_id, now=now)
        done.append(f"stall pass {connection_id}: {result.queued} queued")
        if result.queued:
            _flush(services, connection_id, connector, done, lease)
    if queued_run is not None or due_sync or pending or due_stall:
        # the data may have changed: the pages' first views are computed now, not by the next
        # person who opens them
        warm_analytics(services, connection_id)
    if due_stall or tasks_due:
        # records the stall pass turned stalled get their owners' tasks now, and so do records
        # someone asked tasks for on the records page
        tasks = run_tasks(services, connection_id, connector, now, lease)
        done.append(f"tasks {connection_id}: {tasks.created} created")
    return done


def _flush(services: Services, connection_id: int, connector: Connector, done: list[str],
           lease: Lease) -> None:
    result = flush_outbox(services, connection_id, connector, lease=lease)
    done.append(f"outbox {connection_id}: {result.written} written, {result.failed} failed")


@dataclass
class Worker:
    """Works every due connection on a pool of threads; ``tick()`` once, or ``run()`` until
    ``stop`` is set."""

    services: Services
    owner: str = field(default_factory=lambda: f"{process_owner('worker')}:{uuid.uuid4().hex[:6]}")
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=self.services.settings.worker_threads,
                                        thread_name_prefix="journey-work")
        #: Connections this worker is working on now, so a slow one is not queued twice.
        self._busy: set[int] = set()
        self._lock = threading.Lock()

    def run(self) -> None:
        """Dispatch every tick until stopped, then wait for the work in hand."""
        log.info("worker %s started", self.owner)
        try:
            while not self.stop.is_set():
                try:
                    self.dispatch()
                except Exception:  # a bad tick must not kill the worker; the next one retries
                    log.exception("worker tick failed")
                self.stop.wait(self.services.settings.worker_tick_seconds)
        finally:
            self.close()

    def dispatch(self, now: datetime | None = None) -> list[Future]:
        """Close runs whose process died, and start work on every due connection not already in
        hand. Returns the started work without waiting for it."""
        with self.services.session() as session:
            close_stale_runs(session, utcnow())
            due = connections_with_due_work(session, now or utcnow(),
                                            self.services.settings.stall_interval_seconds,
                                            settled_before(self.services))
        futures = []
        for _tenant, connection_id in due:
            with self._lock:
                if connection_id in self._busy:
                    continue
                self._busy.add(connection_id)
            future = self._pool.submit(work_connection, self.services, connection_id, self.owner,
                                       now)
            future.add_done_callback(lambda _f, cid=connection_id: self._done(cid))
            futures.append(future)
        return futures

    def tick(self, now: datetime | None = None) -> list[str]:
        """Dispatch once and wait for that work (tests, ``--once``). Returns what it did."""
        futures = self.dispatch(now)
        wait(futures)
        return [line for f in futures for line in f.result()]

    def close(self) -> None:
        """Wait for the work in hand and release the threads."""
        self._pool.shutdown(wait=True)

    def _done(self, connection_id: int) -> None:
        with self._lock:
            self._busy.discard(connection_id)
