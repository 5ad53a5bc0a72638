"""The worker on SQLite and PostgreSQL: scheduled and queued syncs, and leases that keep two
workers off the same connection."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from integration.connecting import connect, provision
from integration.map_review import apply_map
from integration.store.connections import acquire_lease, release_lease
from integration.store.models import Connection, SyncRun
from integration.store.runs import queue_run
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.worker import Worker
from mapping import default_map_text
from tests.seeds import SEED
from tests.sync.crms import start_crm


@pytest.fixture(scope="module")
def hubspot(services):
    crm = start_crm("hubspot", SEED)
    with services.session() as s:
        tenant = get_or_create_tenant(s, "worker-tests")
        conn = connect(s, services, tenant_id=tenant.id, name="hs-worker", crm="hubspot",
                       values=crm.settings(), sync_interval_seconds=3600)
        apply_map(s, conn.id, default_map_text(), author="test")
        connection_id = conn.id
    provision(services, connection_id)
    yield connection_id
    crm.stop()


def runs(services, connection_id):
    with services.session() as s:
        return list(s.exec(select(SyncRun).where(SyncRun.connection_id == connection_id)
                           .order_by(SyncRun.id)))


def test_a_connection_never_synced_is_synced_then_waits_for_its_interval(services, hubspot):
    worker = Worker(services, owner="w-a")
    done = worker.tick()
    assert any(line.startswith(f"sync {hubspot}: succeeded") for line in done)
    assert not any(line.startswith(f"sync {hubspot}") for line in worker.tick())
    later = utcnow() + timedelta(seconds=3601)
    assert any(line.startswith(f"sync {hubspot}") for line in worker.tick(now=later))


def test_a_queued_run_is_taken_by_the_next_tick(services, hubspot):
    with services.session() as s:
        run = queue_run(s, hubspot, full=True, requested_by="api")
    Worker(services, owner="w-b").tick()
    with services.session() as s:
        taken = s.get(SyncRun, run.id)
    assert taken.status == "succeeded" and taken.full and taken.read == 2


def test_a_leased_connection_is_left_alone_by_other_workers(services, hubspot):
    with services.session() as s:
        assert acquire_lease(s, hubspot, "someone-else", 600)
        queue_run(s, hubspot, requested_by="api")
    try:
        assert not any(str(hubspot) in line for line in Worker(services, owner="w-c").tick())
    finally:
        with services.session() as s:
            release_lease(s, hubspot, "someone-else")
    assert any(str(hubspot) in line for line in Worker(services, owner="w-c").tick())


def test_two_workers_racing_run_one_sync(services, hubspot):
    with services.session() as s:
        queue_run(s, hubspot, requested_by="api")
    before = len(runs(services, hubspot))
    barrier = threading.Barrier(2)
    results: list[list[str]] = []

    def tick(owner: str) -> None:
        barrier.wait()
        results.append(Worker(services, owner=owner).tick())

    threads = [threading.Thread(target=tick, args=(f"racer-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    synced = [line for out in results for line in out if line.startswith(f"sync {hubspot}")]
    assert len(synced) == 1
    assert len(runs(services, hubspot)) == before  # the queued run was used, no second run made
    with services.session() as s:
        assert s.get(Connection, hubspot).lease_owner is None


def test_a_lease_left_by_a_dead_process_is_taken_over_but_not_a_live_ones(services, hubspot):
    import os
    import socket
    import subprocess

    from integration.sync.lease import Busy, leased

    gone = subprocess.Popen(["true"])
    gone.wait()
    host = socket.gethostname()
    for holder, free in ((f"worker:{host}:{gone.pid}", True),
                         (f"worker:{host}:{os.getppid()}", False),
                         (f"worker:elsewhere:{gone.pid}", False)):
        with services.session() as s:
            assert acquire_lease(s, hubspot, holder, 600)
        try:
            if free:
                with leased(services, hubspot, "me"):
                    pass
            else:
                with pytest.raises(Busy, match=holder):
                    with leased(services, hubspot, "me"):
                        pass
        finally:
            with services.session() as s:
                release_lease(s, hubspot, holder)


def test_a_lease_that_lapses_while_it_is_being_looked_at_is_taken(services, hubspot, monkeypatch):
    """The take fails on a live lease that lapses before its holder is read (a killed process's
    last renewal running out in between): the next round takes it, rather than report a busy
    connection nobody holds."""
    from sqlalchemy import update

    from integration.sync import lease as lease_module

    real_acquire = lease_module.acquire_lease
    failed = []

    def acquire_then_lapse(session, connection_id, owner, seconds):
        taken = real_acquire(session, connection_id, owner, seconds)
        if not taken and not failed:
            failed.append(owner)
            session.execute(update(Connection).where(Connection.id == connection_id)
                            .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
            session.commit()
        return taken

    with services.session() as s:
        assert acquire_lease(s, hubspot, "worker:elsewhere:1", 600)
    monkeypatch.setattr(lease_module, "acquire_lease", acquire_then_lapse)
    try:
        with lease_module.leased(services, hubspot, "me"):
            with services.session() as s:
                assert s.get(Connection, hubspot).lease_owner == "me"
        assert failed == ["me"]
    finally:
        with services.session() as s:
            release_lease(s, hubspot, "worker:elsewhere:1")
