"""The service on Celery and the real Redis: two `journey worker` processes run the tasks the
scheduler queues, on SQLite and PostgreSQL; a connection is never worked twice at once, and a
worker killed with -9 mid-sync loses nothing."""
from __future__ import annotations

import copy
import dataclasses
import os
import signal
from datetime import timedelta

import pytest
import requests
from sqlmodel import select

from connectors.hubspot.sandbox import HubSpotPortals
from integration.connecting import connect, provision
from integration.map_review import apply_map
from integration.queue.scheduler import Scheduler
from integration.queue.tasks import WORK_TASK, make_celery
from integration.sandboxes import sandbox_settings
from integration.store.models import Connection, OutboxItem, SyncRun
from integration.store.records import queue_records
from integration.store.tenancy import get_or_create_tenant
from mapping import default_map_text
from tests.fixtures_hubspot import HS_SEED
from tests.sync.crms import HS_FIELDS
from tests.support import wait_for


@pytest.fixture(scope="module")
def world(services, queue_settings, celery_workers):
    """Three portals, connections in two tenants (two and one), two worker processes."""
    box = HubSpotPortals(copy.deepcopy(HS_SEED), portals=3).start()
    ids = []
    with services.session() as s:
        tenants = [get_or_create_tenant(s, "queue-a").id, get_or_create_tenant(s, "queue-b").id]
    for n, info in enumerate(box.infos()):
        with services.session() as s:
            conn = connect(s, services, tenant_id=tenants[0 if n < 2 else 1], name=f"portal-{n}",
                           crm="hubspot", values=sandbox_settings("hubspot", info),
                           sync_interval_seconds=3600)
            apply_map(s, conn.id, default_map_text(), author="test")
            ids.append(conn.id)
        provision(services, conn.id)
    workers = celery_workers.start_workers(2)
    celery = make_celery(queue_settings)
    yield {"box": box, "ids": ids, "workers": workers, "celery": celery,
           "scheduler": Scheduler(dataclasses.replace(services, settings=queue_settings), celery)}
    box.stop()


def _runs(services, connection_id):
    with services.session() as s:
        return list(s.exec(select(SyncRun).where(SyncRun.connection_id == connection_id)))


def _conn(services, connection_id) -> Connection:
    with services.session() as s:
        return s.get(Connection, connection_id)


def _written(box, n, deal_id) -> str | None:
    info = box.infos()[n]
    res = requests.get(f"{info['base_url']}/crm/v3/objects/deals/{deal_id}",
                       params={"properties": HS_FIELDS["journey_stage"]},
                       headers={"Authorization": f"Bearer {info['private_app_token']}"})
    return res.json()["properties"].get(HS_FIELDS["journey_stage"])


def _idle(services, ids) -> bool:
    return all(_conn(services, cid).lease_owner is None for cid in ids)


def test_two_worker_processes_sync_every_connection_once(services, world, celery_workers):
    queued = world["scheduler"].tick()
    assert sorted(cid for _, cid in queued) == sorted(world["ids"])
    wait_for(lambda: all(_conn(services, cid).last_sync_at for cid in world["ids"])
             and _idle(services, world["ids"]), timeout=120)
    # What one connection's sync queues for another of its workspace (people linked across
    # connections) is done by a later task; then nothing is due until the interval passes.
    wait_for(lambda: not world["scheduler"].tick() and _idle(services, world["ids"]), timeout=60)
    for cid in world["ids"]:
        runs = _runs(services, cid)
        assert [r.status for r in runs if r.requested_by == "schedule"] == ["succeeded"]
        assert all(r.status == "succeeded" for r in runs)
    deal_id = HS_SEED["deals"][0]["id"]
    assert all(_written(world["box"], n, deal_id) for n in range(3))
    logs = [celery_workers.log(p) for p in world["workers"]]
    assert all("succeeded" in log for log in logs), "each worker process ran tasks"


def test_records_named_by_webhooks_get_a_targeted_sync_on_a_worker(services, world):
    cid = world["ids"][1]
    box = world["box"]
    portal = box.infos()[1]["portal_id"]
    deal_id = HS_SEED["deals"][0]["id"]
    requests.post(f"{box.info()['base_url']}/__sandbox__/move?portal={portal}",
                  json={"object": "deal", "id": deal_id, "stage": "closedlost"}).raise_for_status()
    earlier = {r.id for r in _runs(services, cid)}
    with services.session() as s:
        queue_records(s, cid, [("deal", deal_id)])  # what the webhook endpoint does
    assert cid in [c for _, c in world["scheduler"].tick()]
    wait_for(lambda: any(r.requested_by == "webhook" and r.status == "succeeded"
                         for r in _runs(services, cid) if r.id not in earlier)
             and _idle(services, [cid]), timeout=60)
    assert (_written(box, 1, deal_id) or "").lower() == "lost"


def test_a_connection_is_never_worked_by_two_workers_at_once(services, world):
    cid = world["ids"][2]
    box = world["box"]
    requests.post(f"{box.info()['base_url']}/__sandbox__/faults?portal={box.infos()[2]['portal_id']}",
                  json={"latency_ms": 150}).raise_for_status()
    before = [r.id for r in _runs(services, cid) if r.requested_by == "schedule"]
    with services.session() as s:
        conn = s.get(Connection, cid)
        conn.last_sync_at = None
        s.add(conn)
    tenant = _conn(services, cid).tenant_id
    for _ in range(2):  # the same work delivered twice, to both workers
        world["celery"].send_task(WORK_TASK, args=[cid, tenant])
    wait_for(lambda: _conn(services, cid).last_sync_at and _idle(services, [cid]), timeout=120)
    assert len([r for r in _runs(services, cid) if r.requested_by == "schedule"]) == len(before) + 1


def test_a_worker_killed_mid_sync_loses_nothing_and_its_work_is_picked_up(services, world):
    cid = world["ids"][0]
    box = world["box"]
    portal = box.infos()[0]["portal_id"]
    requests.post(f"{box.info()['base_url']}/__sandbox__/faults?portal={portal}",
                  json={"latency_ms": 300}).raise_for_status()
    deal_id = HS_SEED["deals"][0]["id"]
    requests.post(f"{box.info()['base_url']}/__sandbox__/move?portal={portal}",
                  json={"object": "deal", "id": deal_id, "stage": "closedlost"}).raise_for_status()
    with services.session() as s:
        conn = s.get(Connection, cid)
        conn.last_sync_at = None
        s.add(conn)
    scheduler = world["scheduler"]
    assert [c for _, c in scheduler.tick()] == [cid]
    owner = wait_for(lambda: _conn(services, cid).lease_owner, timeout=60, every=0.05)
    pid = int(owner.split(":")[2])
    victim = next(p for p in world["workers"] if p.pid == pid)
    os.kill(pid, signal.SIGKILL)
    victim.wait()  # reaped, as a supervisor would: a zombie still looks alive to kill(pid, 0)
    leased_until = _conn(services, cid).lease_expires_at
    # While the dead worker's lease lasts nobody else starts; right after it, the next tick does.
    assert scheduler.tick(now=leased_until - timedelta(seconds=1)) == []
    assert [c for _, c in scheduler.tick(now=leased_until + timedelta(seconds=1))] == [cid]
    wait_for(lambda: any(r.status == "succeeded" and r.requested_by == "schedule"
                         for r in _runs(services, cid)[1:]) and _idle(services, [cid]),
             timeout=120)
    assert (_written(box, 0, deal_id) or "").lower() == "lost"
    with services.session() as s:
        left = s.exec(select(OutboxItem).where(OutboxItem.connection_id == cid,
                                               OutboxItem.status.in_(["pending", "sending"]))).all()
    assert left == []
