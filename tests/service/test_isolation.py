"""One workspace's trouble never touches another's, on SQLite and PostgreSQL: a hanging CRM holds
one worker thread only, revoked credentials stop syncing until an admin reconnects, failing
connections back off, runs of dead processes are closed, deletion mid-sync is harmless."""
from __future__ import annotations

import socket
import threading
from concurrent.futures import wait
from datetime import timedelta

import pytest
from sqlmodel import select

from integration.connecting import connect, provision, reconnect
from integration.map_review import apply_map
from integration.status import connection_status
from integration.store.connections import (acquire_lease, create_connection, delete_connection,
                                           store_tokens)
from integration.store.models import Connection, SyncRun
from integration.store.runs import STALE_REASON
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.standing import retry_delay
from integration.worker import Worker
from mapping import default_map_text
from tests.seeds import SEED
from tests.support import wait_for
from tests.sync.crms import start_crm


class HangingServer:
    """A CRM that accepts TCP connections and never answers a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def stop(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture(scope="module")
def tenant(services):
    with services.session() as s:
        return get_or_create_tenant(s, "isolation").id


def healthy_connection(services, tenant, crm, name):
    """A connection made the normal way (credentials checked), its map applied, fields made."""
    with services.session() as s:
        conn = connect(s, services, tenant_id=tenant, name=name, crm="hubspot",
                       values=crm.settings(), sync_interval_seconds=3600)
        apply_map(s, conn.id, default_map_text(), author="test")
        connection_id = conn.id
    provision(services, connection_id)
    return connection_id


@pytest.fixture()
def hubspot(services, tenant):
    """A healthy HubSpot connection of its own sandbox."""
    crm = start_crm("hubspot", SEED)
    connection_id = healthy_connection(services, tenant, crm, f"hs-{crm.info['base_url'][-5:]}")
    yield crm, connection_id
    with services.session() as s:
        if (conn := s.get(Connection, connection_id)) is not None:
            delete_connection(s, conn)
    crm.stop()


def stored_connection(services, tenant, name, crm, settings, account_id=None):
    """A connection written straight to the store, as older releases accepted it unchecked."""
    with services.session() as s:
        conn = create_connection(s, services.secret_box, tenant_id=tenant, name=name, crm=crm,
                                 settings=settings, secrets={}, account_id=account_id,
                                 sync_interval_seconds=3600)
        apply_map(s, conn.id, default_map_text(), author="test")
        return conn.id


def runs_of(services, connection_id):
    with services.session() as s:
        return list(s.exec(select(SyncRun).where(SyncRun.connection_id == connection_id)
                           .order_by(SyncRun.id)))


def drop(services, *ids):
    """Delete each connection in a transaction of its own, as the API does: one transaction
    locking several connections could deadlock with a worker thread still finishing one of them."""
    for connection_id in ids:
        with services.session() as s:
            if (conn := s.get(Connection, connection_id)) is not None:
                delete_connection(s, conn)


def test_a_hanging_crm_does_not_hold_back_another_connection(services, tenant):
    hanging = HangingServer()
    # Made first, so a worker walking connections in order would wait on it first.
    stuck = stored_connection(services, tenant, "hangs", "hubspot",
                              {"base_url": hanging.url, "access_token": "t"}, account_id="777")
    crm = start_crm("hubspot", SEED)
    healthy = healthy_connection(services, tenant, crm, "beside-hanging")
    worker = Worker(services, owner="iso-hang")
    try:
        worker.dispatch()
        done = wait_for(lambda: [r for r in runs_of(services, healthy)
                                 if r.status == "succeeded"], timeout=40)
        assert done[0].read == 2
        # ... while the hanging CRM's sync is still waiting for its answer.
        assert [r.status for r in runs_of(services, stuck)] == ["running"]
        wait(worker.dispatch())  # the stuck one is in hand: it is not started twice
        assert [r.status for r in runs_of(services, stuck)] == ["running"]
    finally:
        hanging.stop()
        # Its thread ends on its own after the CRM's retries; deleting it meanwhile is harmless.
        drop(services, stuck, healthy)
        crm.stop()


def test_revoked_credentials_stop_syncing_until_an_admin_reconnects(services, hubspot):
    crm, connection_id = hubspot
    good = crm.settings()
    with services.session() as s:
        store_tokens(s, services.secret_box, connection_id,
                     {"access_token": "revoked-token", "refresh_token": "revoked-refresh"})
    worker = Worker(services, owner="iso-revoked")
    start = utcnow()
    for second in range(0, 90, 3):  # a tick every 3 s for 90 s of the worker's clock
        worker.tick(now=start + timedelta(seconds=second))
    runs = runs_of(services, connection_id)
    assert [r.status for r in runs] == ["failed"]
    with services.session() as s:
        status = connection_status(s, connection_id)
    standing = status["standing"]
    assert standing["state"] == "needs_reconnect" and not status["healthy"]
    assert standing["text"].startswith("Needs reconnecting: HubSpot refused the connection")
    assert "401" not in standing["text"] and "INVALID_AUTHENTICATION" not in standing["text"]
    with services.session() as s:
        tenant_id = s.get(Connection, connection_id).tenant_id
    reconnect(services, tenant_id, connection_id,
              {"access_token": good["access_token"], "refresh_token": good["refresh_token"]})
    assert any(line == f"sync {connection_id}: succeeded" for line in worker.tick())
    worker.close()


def test_rejected_settings_fail_once_back_off_and_leave_the_tick_to_the_others(
        services, tenant, hubspot):
    crm, healthy = hubspot
    broken = stored_connection(services, tenant, "plain-http", "salesforce",
                               {"instance_url": "http://sf.example", "access_token": "x"})
    worker = Worker(services, owner="iso-broken")
    start = utcnow()
    done = worker.tick(now=start)
    assert f"sync {broken}: failed" in done and f"sync {healthy}: succeeded" in done
    run, = runs_of(services, broken)
    assert run.status == "failed" and "https://" in run.message
    with services.session() as s:
        conn = s.get(Connection, broken)
    assert conn.failures == 1
    assert start + timedelta(seconds=14) < conn.retry_at <= utcnow() + timedelta(seconds=30)
    # Not due again before its retry time, whatever the ticks; due after it, and waits longer.
    for second in range(1, 14, 2):
        assert not [line for line in worker.tick(now=start + timedelta(seconds=second))
                    if str(broken) in line]
    later = conn.retry_at + timedelta(seconds=1)
    assert f"sync {broken}: failed" in worker.tick(now=later)
    with services.session() as s:
        conn = s.get(Connection, broken)
    assert conn.failures == 2 and conn.retry_at - utcnow() > timedelta(seconds=29)
    # The standing is in the database: a new worker (a restart) honours it.
    restarted = Worker(services, owner="iso-restarted")
    assert not [line for line in restarted.tick() if str(broken) in line]
    restarted.close()
    # Fixed settings: the next try succeeds and the failures are forgotten.
    with services.session() as s:
        conn = s.get(Connection, broken)
        conn.crm, conn.settings = "hubspot", {"base_url": crm.info["base_url"]}
        conn.secrets = services.secret_box.seal({"access_token": crm.info["private_app_token"]})
        s.add(conn)
    assert f"sync {broken}: succeeded" in worker.tick(now=utcnow() + timedelta(seconds=61))
    with services.session() as s:
        conn = s.get(Connection, broken)
    assert conn.failures == 0 and conn.retry_at is None
    worker.close()
    drop(services, broken)


def test_backoff_doubles_with_jitter_up_to_its_cap():
    for failures in range(1, 12):
        delay = retry_delay(failures, 30, 3600)
        ideal = min(3600, 30 * 2 ** (failures - 1))
        assert ideal / 2 <= delay <= ideal
    assert len({retry_delay(3, 30, 3600) for _ in range(20)}) > 1


def test_a_run_left_running_by_a_dead_process_is_closed_when_its_lease_lapses(services, hubspot):
    _crm, connection_id = hubspot
    with services.session() as s:
        stale = SyncRun(connection_id=connection_id, status="running", started_at=utcnow())
        s.add(stale)
        s.flush()
        stale_id = stale.id
    # A live holder's run is left alone...
    with services.session() as s:
        assert acquire_lease(s, connection_id, "worker:elsewhere:1", 600)
    worker = Worker(services, owner="iso-stale")
    worker.tick()
    with services.session() as s:
        assert s.get(SyncRun, stale_id).status == "running"
        # ... until its lease lapses without renewal (the process died).
        conn = s.get(Connection, connection_id)
        conn.lease_expires_at = utcnow() - timedelta(seconds=1)
        s.add(conn)
    worker.tick()
    with services.session() as s:
        run = s.get(SyncRun, stale_id)
    assert run.status == "failed" and run.message == STALE_REASON and run.finished_at
    worker.close()


def test_deleting_a_connection_mid_sync_does_not_crash_the_worker(services, tenant, hubspot):
    crm, other = hubspot
    slow = start_crm("hubspot", {"hubspot": {**SEED["hubspot"], "portal_id": 8808}})
    try:
        doomed = healthy_connection(services, tenant, slow, "to-delete")
        slow.faults(latency_ms=400)
        worker = Worker(services, owner="iso-delete")
        result: list[list[str]] = []
        ticking = threading.Thread(target=lambda: result.append(worker.tick()))
        ticking.start()
        wait_for(lambda: [r for r in runs_of(services, doomed) if r.status == "running"])
        with services.session() as s:
            delete_connection(s, s.get(Connection, doomed))
        ticking.join(timeout=60)
        assert result, "the tick did not finish"
        assert f"connection {doomed}: deleted" in result[0] or any(
            line.startswith(f"sync {doomed}:") for line in result[0])
        assert f"sync {other}: succeeded" in result[0]
        assert runs_of(services, doomed) == []
        assert f"sync {other}: succeeded" in worker.tick(now=utcnow() + timedelta(hours=2))
        worker.close()
    finally:
        slow.stop()


def test_due_work_leaves_paused_reconnecting_and_backing_off_connections_alone(
        services, tenant):
    from integration.sync.due import connections_with_due_work
    from integration.store.runs import queue_run

    ids = {state: stored_connection(services, tenant, f"sched-{state}", "hubspot",
                                    {"base_url": "http://127.0.0.1:9"})
           for state in ("active", "paused", "needs_reconnect", "backing_off")}
    now = utcnow()
    with services.session() as s:
        for state, connection_id in ids.items():
            conn = s.get(Connection, connection_id)
            if state == "backing_off":
                conn.failures, conn.retry_at = 2, now + timedelta(minutes=1)
            else:
                conn.state = state
            s.add(conn)
    with services.session() as s:
        due = {cid for _tenant, cid in connections_with_due_work(s, now, 3600, now)}
    assert ids["active"] in due
    assert not due & {ids["paused"], ids["needs_reconnect"], ids["backing_off"]}
    with services.session() as s:
        queue_run(s, ids["backing_off"], requested_by="api")  # an admin's "Sync now" is honoured
        due = {cid for _tenant, cid in connections_with_due_work(s, now, 3600, now)}
    assert ids["backing_off"] in due
    drop(services, *ids.values())
