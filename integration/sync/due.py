"""Which connections have work due: the one question the embedded worker and the queue scheduler
ask every tick."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from integration.store.models import (Connection, CrmTask, OutboxItem, PendingRecord,
                                     SyncRun)
from integration.store.types import utcnow
from integration.sync.standing import ACTIVE


def connections_with_due_work(session: Session, now: datetime, stall_interval_seconds: int,
                              settled_before: datetime) -> list[tuple[int, int]]:
    """(tenant id, connection id) of every connection with something due, most overdue first:
    a scheduled sync or stall pass, a queued run, webhook records, due outbox items, new tasks,
    or updates and tasks a dead process left in flight once no call carrying them can still land
    (outbox items say when in ``next_attempt_at``; tasks sent before ``settled_before``).

    Connections whose lease is held are left out: their worker is on them. A worker that died
    holding one stops renewing it, so its connection is due again once the lease expires. So are
    connections paused or waiting to be reconnected, and those backing off after failures (unless
    an admin asked for a run). A coarse filter in a few set queries; the task decides exactly what
    to do under the lease.
    """
    asked = set(session.exec(select(SyncRun.connection_id).where(SyncRun.status == "queued")))
    flagged = set(asked)
    flagged |= set(session.exec(select(PendingRecord.connection_id).distinct()))
    flagged |= set(session.exec(select(OutboxItem.connection_id).distinct().where(
        OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now)))
    # Tasks never tried (asked for on the records page); retries wait for the next sync or
    # stall pass, so a task the CRM keeps refusing is not sent every tick.
    flagged |= set(session.exec(select(CrmTask.connection_id).distinct().where(
        CrmTask.status == "pending", CrmTask.attempts == 0)))
    # Updates and tasks left "sending" under a lease no one holds any more: their process died
    # mid-push. The flush settles them against the CRM now, not at the next scheduled sync.
    flagged |= set(session.exec(select(OutboxItem.connection_id).distinct().where(
        OutboxItem.status == "sending", OutboxItem.next_attempt_at <= utcnow())))
    flagged |= set(session.exec(select(CrmTask.connection_id).distinct().where(
        CrmTask.status == "sending", CrmTask.updated_at <= settled_before)))
    stall_every = timedelta(seconds=stall_interval_seconds)
    due: list[tuple[datetime, int, int]] = []
    for cid, tenant, last_sync, interval, last_stall, leased_until, state, retry_at in session.exec(
            select(Connection.id, Connection.tenant_id, Connection.last_sync_at,
                   Connection.sync_interval_seconds, Connection.last_stall_pass_at,
                   Connection.lease_expires_at, Connection.state, Connection.retry_at)):
        if leased_until is not None and leased_until > now:
            continue
        if state != ACTIVE or (retry_at is not None and retry_at > now and cid not in asked):
            continue
        sync_at = last_sync + timedelta(seconds=interval) if last_sync else datetime.min.replace(
            tzinfo=now.tzinfo)
        stall_at = last_stall + stall_every if last_stall else sync_at
        if cid in flagged or sync_at <= now or stall_at <= now:
            due.append((min(sync_at, stall_at), tenant, cid))
    return [(tenant, cid) for _, tenant, cid in sorted(due)]
