"""``journey scheduler``: queues the due work of every connection, fairly across tenants.

One scheduler is active at a time (a Redis lock; a second one waits as a stand-by and takes over
within a lock period when the first stops). Every tick it asks the database which connections
have work due, and queues a task for each one not already waiting, at most
``queue_tenant_share`` waiting per tenant, interleaving tenants: a tenant with a thousand due
connections holds at most that many places in the queue, so another tenant's task waits behind at
most ``share`` of its tasks, never behind all thousand.
"""
from __future__ import annotations

import itertools
import logging
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import redis
from redis.exceptions import LockError
from celery import Celery

from integration.queue.ledger import QueueLedger
from integration.queue.tasks import WORK_TASK, queue_ledger
from integration.services import Services
from integration.store.runs import close_stale_runs
from integration.store.types import utcnow
from integration.sync.due import connections_with_due_work
from integration.sync.lease import settled_before

log = logging.getLogger("journey.scheduler")


def fair_order(picks: dict[int, list[int]]) -> list[tuple[int, int]]:
    """Interleave tenants' lists: the first of each tenant, then the second of each, ..."""
    rounds = itertools.zip_longest(*([(tenant, cid) for cid in ids]
                                     for tenant, ids in sorted(picks.items())))
    return [pick for round_ in rounds for pick in round_ if pick is not None]


@dataclass
class Scheduler:
    """Queues due work every ``settings.worker_tick_seconds``; ``tick()`` once or ``run()``."""

    services: Services
    celery: Celery
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        settings = self.services.settings
        self.ledger: QueueLedger = queue_ledger(settings)
        self._client = redis.Redis.from_url(settings.broker_url)
        self._lock = self._client.lock(f"{settings.redis_prefix}:scheduler",
                                       timeout=max(10.0, settings.worker_tick_seconds * 5))

    def tick(self, now: datetime | None = None) -> list[tuple[int, int]]:
        """Queue what is due now; returns the (tenant id, connection id) pairs queued."""
        now = now or utcnow()
        settings = self.services.settings
        with self.services.session() as session:
            close_stale_runs(session, now)
            due = connections_with_due_work(session, now, settings.stall_interval_seconds,
                                            settled_before(self.services))
        by_tenant: dict[int, list[int]] = defaultdict(list)
        for tenant, cid in due:
            by_tenant[tenant].append(cid)
        picks: dict[int, list[int]] = {}
        for tenant, ids in by_tenant.items():
            waiting = self.ledger.waiting(tenant)
            free = settings.queue_tenant_share - len(waiting)
            picks[tenant] = [cid for cid in ids if cid not in waiting][:max(0, free)]
        order = fair_order(picks)
        for tenant, cid in order:
            self.ledger.queued(tenant, cid)
            self.celery.send_task(WORK_TASK, args=[cid, tenant])
        return order

    def _hold_lock(self, active: bool) -> bool:
        """Renew the lock this scheduler holds, or try to take it; whether it holds it now."""
        try:
            return bool(self._lock.reacquire() if active else self._lock.acquire(blocking=False))
        except LockError:
            return False

    def run(self) -> None:
        """Tick while holding the scheduler lock, until ``stop`` is set."""
        interval = self.services.settings.worker_tick_seconds
        active = False
        try:
            while not self.stop.is_set():
                active = self._hold_lock(active)
                if active:
                    try:
                        queued = self.tick()
                        if queued:
                            log.info("queued %d connection(s)", len(queued))
                    except Exception:  # a bad tick must not stop the schedule; the next retries
                        log.exception("scheduler tick failed")
                self.stop.wait(interval)
        finally:
            if active:
                try:
                    self._lock.release()
                except LockError:
                    pass  # it expired meanwhile; nothing to give back
