"""The Celery app: one task, "do what is due for this connection", run by ``journey worker``.

Delivery is at least once (``acks_late``; a message whose worker dies goes back to the queue after
the visibility timeout, or at once when a pool child dies). That is safe because the task holds
the connection's database lease for its work, decides afresh what is due, and the sync and the
outbox resume where a dead process stopped.
"""
from __future__ import annotations

import dataclasses
import os
import uuid
from typing import Any

import redis
from celery import Celery

from integration.config import Settings
from integration.queue.budgets import RedisResources
from integration.queue.ledger import QueueLedger
from integration.services import Services, build_services
from integration.sync.lease import process_owner
from integration.worker import work_connection

WORK_TASK = "journey.work_connection"


def make_celery(settings: Settings) -> Celery:
    """A Celery app on ``settings.broker_url`` whose keys all start with ``settings.redis_prefix``."""
    app = Celery("journey", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds one waiting task, not a batch of them
        task_ignore_result=True,
        task_default_queue=f"{settings.redis_prefix}.work",
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            # A task is redelivered if not acknowledged by then; the lease outlives it meanwhile.
            "visibility_timeout": max(60, settings.lease_seconds),
            "global_keyprefix": f"{settings.redis_prefix}:",
        },
        worker_hijack_root_logger=False,
    )
    context = _ProcessContext(settings)

    @app.task(name=WORK_TASK, bind=True)
    def work(task: Any, connection_id: int, tenant_id: int) -> list[str]:
        """Do what is due for one connection (see :func:`integration.worker.work_connection`)."""
        services, ledger = context.get()
        ledger.started(tenant_id, connection_id)
        owner = f"{process_owner('celery')}:{(task.request.id or uuid.uuid4().hex)[:8]}"
        return work_connection(services, connection_id, owner)

    return app


class _ProcessContext:
    """Services and ledger of the current process, built on first use after a fork (database and
    Redis connections must not be shared between a parent and its pool children)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pid: int | None = None
        self._built: tuple[Services, QueueLedger] | None = None

    def get(self) -> tuple[Services, QueueLedger]:
        if self._built is None or self._pid != os.getpid():
            self._pid = os.getpid()
            self._built = (queue_services(self.settings), queue_ledger(self.settings))
        return self._built


def queue_services(settings: Settings) -> Services:
    """Services whose connectors share their rate budgets through the broker's Redis."""
    return dataclasses.replace(build_services(settings), resources=RedisResources(
        settings.broker_url, settings.redis_prefix))


def queue_ledger(settings: Settings) -> QueueLedger:
    """The ledger of waiting connections, in the broker's Redis."""
    return QueueLedger(redis.Redis.from_url(settings.broker_url), settings.redis_prefix,
                       stale_seconds=max(60, settings.lease_seconds))


def run_worker(settings: Settings, *, concurrency: int, pool: str, loglevel: str = "INFO") -> None:
    """Run a Celery worker in this process until it is stopped (SIGTERM finishes the task in hand)."""
    app = make_celery(settings)
    app.worker_main(["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}",
                     f"--pool={pool}", f"--queues={app.conf.task_default_queue}",
                     "--without-gossip", "--without-mingle",
                     f"--hostname=journey-{os.getpid()}@%h"])
