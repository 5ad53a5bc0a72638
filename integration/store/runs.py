"""Sync runs: what each unit of work did, for the health page and the API."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import Session, select

from integration.store.models import Connection, SyncRun


def queue_run(session: Session, connection_id: int, *, kind: str = "sync", full: bool = False,
              requested_by: str = "api") -> SyncRun:
    """A run for the worker to pick up."""
    run = SyncRun(connection_id=connection_id, kind=kind, full=full, status="queued",
                  requested_by=requested_by)
    session.add(run)
    session.flush()
    return run


def next_queued(session: Session, connection_id: int) -> SyncRun | None:
    """The oldest queued run of a connection."""
    return session.exec(select(SyncRun).where(SyncRun.connection_id == connection_id,
                                              SyncRun.status == "queued")
                        .order_by(SyncRun.id)).first()


def get_run(session: Session, connection_id: int, run_id: int) -> SyncRun | None:
    """One run of a connection."""
    return session.exec(select(SyncRun).where(SyncRun.connection_id == connection_id,
                                              SyncRun.id == run_id)).first()


def list_runs(session: Session, connection_id: int, limit: int = 50) -> list[SyncRun]:
    """Recent runs, newest first."""
    return list(session.exec(select(SyncRun).where(SyncRun.connection_id == connection_id)
                             .order_by(SyncRun.id.desc()).limit(limit)))


#: The message a run gets when the process running it died.
STALE_REASON = ("the process running this sync stopped before it finished (its lease lapsed); "
                "the next sync picks up where it left off")


def close_stale_runs(session: Session, now: datetime, connection_id: int | None = None) -> int:
    """Close as failed the runs left ``running`` by a process that died. Returns how many.

    Every sync runs under its connection's lease, so a running run is stale once no live owner
    holds the lease (free or lapsed), or, with ``connection_id``, when the caller has just taken
    that connection's lease itself.
    """
    query = update(SyncRun).where(SyncRun.status == "running")
    if connection_id is not None:
        query = query.where(SyncRun.connection_id == connection_id)
    else:
        unheld = select(Connection.id).where(or_(Connection.lease_owner.is_(None),
                                                 Connection.lease_expires_at < now))
        query = query.where(SyncRun.connection_id.in_(unheld))
    result = session.execute(query.values(status="failed", finished_at=now, message=STALE_REASON)
                             .execution_options(synchronize_session=False))
    return result.rowcount
