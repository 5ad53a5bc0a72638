"""A connection's health in one dictionary: for ``journey status``, the API and the health page."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from integration.store import outbox
from integration.store.connections import connection_by_id
from integration.store.models import PendingRecord, RecordState, SyncRun, WebhookDelivery
from integration.store.runs import list_runs
from integration.sync.standing import describe


def run_to_dict(run: SyncRun) -> dict[str, Any]:
    """A run as the API shows it."""
    return {
        "id": run.id, "kind": run.kind, "status": run.status, "full": run.full,
        "dry_run": run.dry_run, "requested_by": run.requested_by,
        "created_at": run.created_at, "started_at": run.started_at, "finished_at": run.finished_at,
        "read": run.read, "changed": run.changed, "written": run.written, "failed": run.failed,
        "api_calls": run.api_calls, "duration_ms": run.duration_ms,
        "quota_used": run.quota_used, "quota_limit": run.quota_limit,
        "errors": run.errors, "message": run.message, "progress": run.progress,
    }


def connection_status(session: Session, connection_id: int) -> dict[str, Any]:
    """Last runs, outbox counts, records per journey stage, stalled count, webhook deliveries."""
    conn = connection_by_id(session, connection_id)
    stages = dict(session.exec(select(RecordState.stage, func.count())
                               .where(RecordState.connection_id == connection_id)
                               .group_by(RecordState.stage)).all())
    stalled = session.exec(select(func.count()).where(RecordState.connection_id == connection_id,
                                                      RecordState.stalled.is_(True))).one()
    webhooks = session.exec(select(func.count()).where(
        WebhookDelivery.connection_id == connection_id)).one()
    queued = session.exec(select(func.count()).where(
        PendingRecord.connection_id == connection_id)).one()
    runs = list_runs(session, connection_id, limit=5)
    standing = describe(conn)
    last = next((r for r in runs if r.status not in ("queued", "running")), None)
    return {
        "connection": {"id": conn.id, "name": conn.name, "crm": conn.crm,
                       "account_id": conn.account_id, "watermark": conn.watermark,
                       "last_sync_at": conn.last_sync_at,
                       "sync_interval_seconds": conn.sync_interval_seconds,
                       "map_version_synced": conn.map_version_synced},
        "standing": standing,
        "healthy": standing["state"] == "active" and not standing["failures"] and (
            last is None or last.status in ("succeeded",)),
        "records": sum(stages.values()), "stages": stages, "stalled": stalled,
        "outbox": outbox.counts(session, connection_id),
        "webhook_deliveries": webhooks, "queued_records": queued,
        "quota": {"used": last.quota_used, "limit": last.quota_limit} if last else None,
        "runs": [run_to_dict(r) for r in runs],
    }
