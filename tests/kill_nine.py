"""Killing a process with -9 in the middle of its CRM calls, and checking what it left behind:
the harness of the crash-safety tests (a ``journey sync`` in a shell, a Celery worker)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from connectors import registry
from integration.sandboxes import sandbox_settings
from integration.store.models import CrmTask, OutboxItem
from integration.store.types import utcnow
from mapping import classify, default_map, desired_writeback, plan_writeback


def wait_while_running(proc: subprocess.Popen, caught: Callable[[], bool], *,
                       timeout: float = 120.0, every: float = 0.02) -> None:
    """Poll ``caught()`` while ``proc`` runs, until it holds. Fails if ``proc`` exits first or
    ``caught`` never holds."""
    deadline = time.monotonic() + timeout
    while not caught():
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"the process ended ({proc.returncode}) before it was caught: {err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"not caught mid-work within {timeout} s")
        time.sleep(every)


def kill_nine_when(proc: subprocess.Popen, caught: Callable[[], bool], *,
                   timeout: float = 120.0, every: float = 0.02) -> None:
    """Once ``caught()`` holds (polled while ``proc`` runs), kill ``proc`` with -9 and reap it
    (as a supervisor would: a zombie still looks alive to another process's liveness check)."""
    wait_while_running(proc, caught, timeout=timeout, every=every)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def calls_to(crm: Any, route: str) -> int:
    """Calls the sandbox ``crm`` received on routes whose name contains ``route``, counted as
    they arrive (before any latency the sandbox adds)."""
    return sum(n for name, n in crm.calls()["by_route"].items() if route in name)


def kill_nine_in_flight(proc: subprocess.Popen, crm: Any, route: str, *, latency_ms: float,
                        ready: Callable[[], bool], claimed: Callable[[], bool] = lambda: True,
                        timeout: float = 180.0) -> None:
    """Once ``ready()`` holds, make every call to ``crm`` take ``latency_ms``, and kill ``proc``
    with -9 as soon as its next call to ``route`` reaches the CRM while ``claimed()`` holds (the
    route also serves reads: a write is on its way only while its items are claimed): the CRM
    applies that call ``latency_ms`` later, after the process is gone (then the latency goes back
    to 0)."""
    wait_while_running(proc, ready, timeout=timeout)
    crm.faults(latency_ms=latency_ms)
    seen = [calls_to(crm, route)]

    def write_arrived() -> bool:
        count = calls_to(crm, route)
        if count > seen[0] and claimed():
            time.sleep(0.3)  # a claim just made: its call leaves within milliseconds
            return True
        seen[0] = count
        return False

    kill_nine_when(proc, write_arrived, timeout=timeout, every=0.005)
    crm.faults(latency_ms=0)


def query(db_url: str, sql: str) -> list[Any]:
    """Rows of ``sql`` on the database at ``db_url`` (what the dead process committed)."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


def statuses(db_url: str, table: str) -> dict[str, int]:
    """How many rows of ``table`` (``outboxitem``, ``crmtask``) are in each status."""
    return dict(query(db_url, f"SELECT status, count(*) FROM {table} GROUP BY status"))


def in_flight_until(db_url: str, in_flight_seconds: float) -> datetime | None:
    """The first moment anything left ``sending`` may be settled (None when nothing is): an
    outbox item's stamped ``next_attempt_at``, a task's ``updated_at`` plus ``in_flight_seconds``
    (the settling process's setting)."""
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            ends = [i.next_attempt_at for i in session.exec(
                select(OutboxItem).where(OutboxItem.status == "sending"))]
            ends += [t.updated_at + timedelta(seconds=in_flight_seconds) for t in session.exec(
                select(CrmTask).where(CrmTask.status == "sending"))]
        return min(ends, default=None)
    finally:
        engine.dispose()


def age_in_flight(db_url: str, seconds: float) -> None:
    """Move the clocks of everything left ``sending`` (outbox items' ``next_attempt_at``, items'
    and tasks' ``updated_at``) back by ``seconds``: the store as it is once that much time has
    passed, without the wait. The crash tests first check that the next process left them alone
    while their time in flight lasted."""
    back = timedelta(seconds=seconds)
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            for model in (OutboxItem, CrmTask):
                for row in session.exec(select(model).where(model.status == "sending")):
                    row.updated_at -= back
                    if model is OutboxItem:
                        row.next_attempt_at -= back
                    session.add(row)
            session.commit()
    finally:
        engine.dispose()


def assert_applied_once_as_the_map_wants(crm: Any) -> None:
    """The Salesforce sandbox ``crm`` holds what the default map wants on every record, every
    update it needed landed, and no record was updated twice."""
    updates = crm.record_updates()
    assert max(updates.values()) == 1, "an update was applied twice"
    connector = registry.spec(crm.crm).factory(sandbox_settings(crm.crm, crm.info), None)
    jmap, now = default_map(), utcnow()
    wrong, needed = [], 0
    for record in connector.pull(None):
        desired = desired_writeback(classify(record, jmap, now))
        needed += desired is not None
        if plan_writeback(desired, record.writeback, now):
            wrong.append(record.id)
    assert wrong == []
    assert len(updates) == needed  # every planned update landed, each exactly once
