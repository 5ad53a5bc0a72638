"""The embedded worker: scheduled syncs, webhook-driven targeted syncs, stall passes, outbox.

Each tick walks the connections and, for each one whose database lease it wins, does the work that
is due. The lease is what keeps two workers (threads, processes or machines) off the same
connection at once; everything else is the stateless functions of ``integration.sync``.
"""
from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import select

from integration.services import Services
from integration.store.connections import list_connections
from integration.store.models import Connection, OutboxItem
from integration.store.records import drop_queued, take_queued
from integration.store.runs import next_queued
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from integration.sync.flush import flush_outbox
from integration.sync.lease import Busy, leased, process_owner
from integration.sync.reevaluate import reevaluate

log = logging.getLogger("journey.worker")


@dataclass
class Worker:
    """Runs due work for every connection; ``tick()`` once, or ``run()`` until ``stop`` is set."""

    services: Services
    owner: str = field(default_factory=lambda: f"{process_owner('worker')}:{uuid.uuid4().hex[:6]}")
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        """Tick until stopped."""
        log.info("worker %s started", self.owner)
        while not self.stop.is_set():
            try:
                self.tick()
            except Exception:  # a bad tick must not kill the worker; the next one retries
                log.exception("worker tick failed")
            self.stop.wait(self.services.settings.worker_tick_seconds)

    def tick(self, now: datetime | None = None) -> list[str]:
        """Do what is due now for each connection this worker can lease. Returns what it did."""
        now = now or utcnow()
        with self.services.session() as session:
            ids = [c.id for c in list_connections(session)]
        done: list[str] = []
        for connection_id in ids:
            done += work_connection(self.services, connection_id, self.owner, now)
        return done


def work_connection(services: Services, connection_id: int, owner: str,
                    now: datetime | None = None) -> list[str]:
    """Do what is due for one connection, holding its lease as ``owner``. Returns what it did
    (nothing when another worker holds the lease)."""
    try:
        with leased(services, connection_id, owner):
            return _due_work(services, connection_id, now or utcnow())
    except Busy:
        return []


def _due_work(services: Services, connection_id: int, now: datetime) -> list[str]:
    settings = services.settings
    done = []
    with services.session() as session:
        conn = session.get(Connection, connection_id)
        queued_run = next_queued(session, connection_id)
        pending = take_queued(session, connection_id)
        due_sync = conn.last_sync_at is None or (
            conn.last_sync_at + timedelta(seconds=conn.sync_interval_seconds) <= now)
        due_stall = conn.last_stall_pass_at is None or (
            conn.last_stall_pass_at + timedelta(seconds=settings.stall_interval_seconds) <= now)
        due_items = session.exec(select(OutboxItem.id).where(
            OutboxItem.connection_id == connection_id, OutboxItem.status == "pending",
            OutboxItem.next_attempt_at <= now).limit(1)).first() is not None
    if queued_run is not None or due_sync:
        run_id = queued_run.id if queued_run else None
        full = bool(queued_run and queued_run.full)
        summary = sync_connection(services, connection_id, full=full, run_id=run_id,
                                  requested_by="api" if queued_run else "schedule")
        done.append(f"sync {connection_id}: {summary.status}")
    if pending:
        ids: dict[str, list[str]] = {}
        for row in pending:
            ids.setdefault(row.object, []).append(row.crm_id)
        summary = sync_connection(services, connection_id, ids=ids, requested_by="webhook")
        if summary.status != "failed":
            with services.session() as session:
                drop_queued(session, pending)
        done.append(f"targeted {connection_id}: {summary.status}")
    if due_stall:
        result = reevaluate(services, connection_id, now=now)
        done.append(f"stall pass {connection_id}: {result.queued} queued")
        due_items = due_items or result.queued > 0
    if due_items:
        with services.session() as session:
            conn = session.get(Connection, connection_id)
        result = flush_outbox(services, connection_id, services.open_connector(conn))
        done.append(f"outbox {connection_id}: {result.written} written, {result.failed} failed")
    return done
