"""The independent reads of one page run side by side, each in a session of its own.

A page's figures (the dashboard's funnel, time in stage and stalled counts; the journeys page's
trends, cohorts and paths) are separate queries: one after another, a page costs their sum; side
by side it costs about the slowest of them. PostgreSQL runs each in a backend of its own, and
SQLite's driver lets go of the GIL while a statement runs (WAL lets its readers share the file),
so they use as many cores as the machine has.

A process lends at most ``helpers`` threads, and so database connections, to such reads at once,
whatever the number of requests: a read that finds no helper free runs in its caller's thread,
after the caller's own, so it never waits behind another request's reads and a process never
holds more connections than its requests plus its helpers. An in-memory SQLite database is its
connection's alone (a helper's session would open an empty one), so its reads run one after
another.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Sequence, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

T = TypeVar("T")
Read = Callable[[Session], T]


class SideBySide:
    """Runs a page's reads side by side (see the module docstring)."""

    def __init__(self, engine: Engine, helpers: int) -> None:
        self._engine = engine
        if _private_to_each_connection(engine):
            helpers = 0
        self._free = threading.BoundedSemaphore(helpers) if helpers else None
        self._helpers = ThreadPoolExecutor(max_workers=helpers, thread_name_prefix="read") \
            if helpers else None

    def run(self, session: Session, reads: Sequence[Read]) -> list:
        """Each read's answer, in order. The first runs in ``session`` in this thread; the
        others in helpers while one is free (each in a new session), else after it here.

        A read's error is raised here once the reads running beside it have ended."""
        helped: dict[int, Future] = {}
        for index in range(1, len(reads)):
            if self._free is None or not self._free.acquire(blocking=False):
                break
            helped[index] = self._helpers.submit(self._helped, reads[index])
        try:
            answers = {index: read(session) for index, read in enumerate(reads)
                       if index not in helped}
        finally:
            for future in helped.values():
                future.exception()  # wait: no read outlives the request that asked for it
        return [answers[index] if index in answers else helped[index].result()
                for index in range(len(reads))]

    def _helped(self, read: Read) -> object:
        try:
            with Session(self._engine) as session:
                return read(session)
        finally:
            self._free.release()


def _private_to_each_connection(engine: Engine) -> bool:
    return engine.url.get_backend_name() == "sqlite" and engine.url.database in (None, "", ":memory:")
