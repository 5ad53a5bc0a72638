"""What the scheduler queues: connections with work due, never those paused, waiting to be
reconnected or backing off (unless an admin asked for a run), never one a live worker holds, and
at once one whose dead worker left write-back updates or tasks in flight once no call carrying
them can still land, not before."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlmodel import select

from integration.queue.scheduler import Scheduler
from integration.queue.tasks import make_celery
from integration.store import outbox
from integration.store.connections import create_connection
from integration.store.models import Connection, CrmTask, OutboxItem, SyncRun
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync import standing

NOW = utcnow()
HOUR = timedelta(hours=1)


def _synced(conn: Connection) -> None:
    """Synced and stall-passed just now: nothing due on the schedule for an hour."""
    conn.last_sync_at = conn.last_stall_pass_at = NOW
    conn.sync_interval_seconds = 3600


def _in_flight(session, conn: Connection, landing: bool = False) -> None:
    """An update a worker marked sending before it died, an hour ago (or just now: ``landing``,
    the batch carrying it may still land)."""
    outbox.replace_plans(session, conn.id, {("deal", "1"): {"journey_stage": "lost"}})
    session.flush()
    item = session.exec(select(OutboxItem).where(OutboxItem.connection_id == conn.id)).one()
    item.status = "sending"
    item.next_attempt_at = NOW + HOUR if landing else NOW - HOUR
    session.add(item)


def _task_in_flight(session, conn: Connection, landing: bool = False) -> None:
    session.add(CrmTask(connection_id=conn.id, object="deal", crm_id="1", key=f"k-{conn.id}",
                        subject="Call", status="sending", due_at=NOW,
                        updated_at=utcnow() if landing else NOW - HOUR))


#: name -> how to set the connection up, and whether the scheduler must queue it.
CASES = {
    "never synced": (lambda s, c: None, True),
    "paused": (lambda s, c: setattr(c, "state", standing.PAUSED), False),
    "needs reconnecting": (lambda s, c: setattr(c, "state", standing.NEEDS_RECONNECT), False),
    "backing off": (lambda s, c: (setattr(c, "failures", 3), setattr(c, "retry_at", NOW + HOUR)),
                    False),
    "backing off, run asked for": (lambda s, c: (setattr(c, "failures", 3),
                                                 setattr(c, "retry_at", NOW + HOUR),
                                                 s.add(SyncRun(connection_id=c.id, kind="sync",
                                                               status="queued"))), True),
    "backoff over": (lambda s, c: (setattr(c, "failures", 3),
                                   setattr(c, "retry_at", NOW - timedelta(seconds=1))), True),
    "synced, nothing due": (lambda s, c: _synced(c), False),
    "update in flight, worker gone": (lambda s, c: (_synced(c), _in_flight(s, c)), True),
    "update in flight, lease lapsed": (lambda s, c: (
        _synced(c), _in_flight(s, c), setattr(c, "lease_owner", "celery:elsewhere:1"),
        setattr(c, "lease_expires_at", NOW - timedelta(seconds=1))), True),
    "update in flight, worker on it": (lambda s, c: (
        _synced(c), _in_flight(s, c), setattr(c, "lease_owner", "celery:elsewhere:1"),
        setattr(c, "lease_expires_at", NOW + HOUR)), False),
    "update still landing, worker gone": (lambda s, c: (_synced(c), _in_flight(s, c, True)),
                                          False),
    "task in flight, worker gone": (lambda s, c: (_synced(c), _task_in_flight(s, c)), True),
    "task still landing, worker gone": (lambda s, c: (_synced(c), _task_in_flight(s, c, True)),
                                        False),
    "paused, update in flight": (lambda s, c: (_synced(c), _in_flight(s, c),
                                               setattr(c, "state", standing.PAUSED)), False),
}


@pytest.fixture(scope="module")
def connections(services):
    """One connection per case, each in a workspace of its own (no fairness cap in the way)."""
    ids = {}
    for name, (arrange, _) in CASES.items():
        with services.session() as s:
            tenant = get_or_create_tenant(s, f"due-{name}").id
            conn = create_connection(s, services.secret_box, tenant_id=tenant, name=name,
                                     crm="hubspot", settings={}, secrets={"access_token": "t"},
                                     account_id=f"due-{len(ids)}")
            arrange(s, conn)
            s.add(conn)
            ids[name] = conn.id
    return ids


def test_the_scheduler_queues_exactly_the_connections_with_work_it_may_do(services, queue_settings,
                                                                         connections):
    scheduler = Scheduler(dataclasses.replace(services, settings=queue_settings),
                          make_celery(queue_settings))
    queued = {cid for _, cid in scheduler.tick(now=NOW)}
    expected = {connections[name] for name, (_, due) in CASES.items() if due}
    assert {name for name, cid in connections.items() if cid in queued} == {
        name for name, cid in connections.items() if cid in expected}
