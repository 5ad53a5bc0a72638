"""Deliveries naming the same record at the same moment all succeed, on SQLite and PostgreSQL:
the record is queued once and nobody hits the unique key (today's 500)."""
from __future__ import annotations

import threading

from sqlmodel import select

from integration.store.models import PendingRecord
from integration.store.records import queue_records
from tests.fixtures_store import add_connection

THREADS = 6
ROUNDS = 8


def test_concurrent_queueing_of_one_record_never_fails(services):
    with services.session() as session:
        connection_id = add_connection(session, "racing", "racing")
    failures: list[BaseException] = []
    queued: list[int] = []

    def deliver(barrier: threading.Barrier, crm_id: str) -> None:
        barrier.wait()
        try:
            with services.session() as session:
                queued.append(queue_records(session, connection_id, [("deal", crm_id), ("deal", "shared")]))
        except BaseException as exc:  # noqa: BLE001 - every failure is the bug under test
            failures.append(exc)

    for round_ in range(ROUNDS):
        barrier = threading.Barrier(THREADS)
        threads = [threading.Thread(target=deliver, args=(barrier, f"r{round_}")) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [type(exc).__name__ for exc in failures] == []
    with services.session() as session:
        rows = session.exec(select(PendingRecord).where(PendingRecord.connection_id == connection_id)).all()
    assert sorted(row.crm_id for row in rows) == sorted([f"r{n}" for n in range(ROUNDS)] + ["shared"])
    assert sum(queued) == ROUNDS + 1
