"""Sync runs: what each unit of work did, for the health page and the API."""
from __future__ import annotations

from sqlmodel import Session, select

from integration.store.models import SyncRun


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
