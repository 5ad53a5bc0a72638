"""A Celery worker killed with -9 in the middle of its write-back push: the updates it left
``sending`` are settled within one scheduler tick of their time in flight running out (the lease
has lapsed by then), not at the next scheduled sync an hour later, and no update is applied twice
or lost (on the real Redis, two worker processes, SQLite and PostgreSQL)."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlmodel import select

from connectors.salesforce.composite import RECORDS_PER_CALL
from integration.demo.seed import demo_seed
from integration.queue.scheduler import Scheduler
from integration.queue.tasks import make_celery
from integration.store.models import Connection, OutboxItem, SyncRun
from integration.store.types import utcnow
from tests.kill_nine import assert_applied_once_as_the_map_wants, kill_nine_when
from tests.support import wait_for
from tests.sync.crms import connect_provisioned, start_crm

#: Three write calls (1,000 updates a composite call): the kill lands after the first.
RECORDS = 2500


@pytest.fixture()
def crm(db_url):
    """A Salesforce org of its own for each database the module runs on."""
    # Leads: people's write-backs wait for the people pass, so they are pushed once the sync
    # itself is done (deals' leave while the pull goes on).
    crm = start_crm("salesforce", demo_seed(utcnow(), opportunities=0, leads=RECORDS,
                                            sf_contacts=0, deals=0, hs_contacts=0))
    yield crm
    crm.stop()


def _conn(services, cid) -> Connection:
    with services.session() as s:
        return s.get(Connection, cid)


def _outbox(services, cid) -> dict[str, int]:
    with services.session() as s:
        items = s.exec(select(OutboxItem.status).where(OutboxItem.connection_id == cid)).all()
    return {status: items.count(status) for status in set(items)}


def test_updates_left_sending_by_a_killed_worker_are_settled_within_a_tick(
        services, queue_settings, celery_workers, crm):
    cid = connect_provisioned(services, crm, "push-recovery", sync_interval_seconds=3600)
    workers = {p.pid: p for p in celery_workers.start_workers(2)}
    scheduler = Scheduler(dataclasses.replace(services, settings=queue_settings),
                          make_celery(queue_settings))
    crm.faults(latency_ms=400)  # each write batch takes long enough to be killed during
    assert [c for _, c in scheduler.tick()] == [cid]
    owner = wait_for(lambda: _conn(services, cid).lease_owner, timeout=60, every=0.05)
    victim = workers[int(owner.split(":")[2])]
    kill_nine_when(victim, lambda: sum(crm.record_updates().values()) >= RECORDS_PER_CALL, timeout=180)
    crm.faults(latency_ms=0)

    dead = _conn(services, cid)
    assert dead.last_sync_at is not None  # the pull was done: the next sync is an hour away
    assert _outbox(services, cid).get("sending", 0) > 0  # caught mid-push
    assert sum(crm.record_updates().values()) < RECORDS * 0.9
    syncs = {r.id for r in _runs(services, cid)}
    # Nobody starts while the dead worker's lease lasts, nor while the batch it had in flight may
    # still land; the first tick after that queues the connection, and a flush settles them.
    assert scheduler.tick(now=dead.lease_expires_at - timedelta(seconds=1)) == []
    queued = wait_for(scheduler.tick, timeout=60, every=queue_settings.worker_tick_seconds)
    assert [c for _, c in queued] == [cid] and utcnow() >= dead.lease_expires_at

    def settled() -> bool:
        # The scheduler goes on ticking, as ``journey scheduler`` does: the work queued as the
        # lease lapsed may find the batch still in its time in flight and leave it to a later
        # tick (without ticks, only Celery's redelivery of the dead worker's task, a minute on,
        # would come back to it).
        scheduler.tick()
        return not _outbox(services, cid) and _conn(services, cid).lease_owner is None
    wait_for(settled, timeout=120, every=queue_settings.worker_tick_seconds)
    assert_applied_once_as_the_map_wants(crm)
    # settled by a flush of the outbox: no second sync re-read the org
    assert {r.id for r in _runs(services, cid)} == syncs


def _runs(services, cid) -> list[SyncRun]:
    with services.session() as s:
        return list(s.exec(select(SyncRun).where(SyncRun.connection_id == cid)))
