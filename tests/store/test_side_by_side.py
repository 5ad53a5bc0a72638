"""A page's reads side by side (integration/store/side_by_side.py), on SQLite and PostgreSQL:
they run at once, each in a session of its own, their answers come back in order, a read finding
no helper free runs in the caller's thread, and a read's error reaches the caller."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlmodel import Session

from integration.store.db import make_engine
from integration.store.side_by_side import SideBySide


def _where(session) -> tuple[str, int]:
    """Which thread a read ran in, and an answer read through its session."""
    return threading.current_thread().name, session.execute(text("SELECT 41 + 1")).scalar_one()


def test_reads_run_at_once_each_in_its_own_session(services):
    reads = SideBySide(services.engine, helpers=2)
    met = threading.Barrier(3, timeout=20)  # broken unless all three run at the same time

    def read(n: int):
        def run(session):
            met.wait()
            return n, session, _where(session)
        return run

    with services.session() as mine:
        answers = reads.run(mine, [read(0), read(1), read(2)])
    assert [n for n, _, _ in answers] == [0, 1, 2]
    assert answers[0][1] is mine and answers[0][2] == (threading.current_thread().name, 42)
    assert len({id(session) for _, session, _ in answers}) == 3
    assert all(where[1] == 42 and where[0].startswith("read") for _, _, where in answers[1:])


def test_without_a_free_helper_a_read_runs_after_the_callers_own(services):
    reads = SideBySide(services.engine, helpers=1)
    me = threading.current_thread().name
    started = threading.Event()  # the helper's read lasts until the caller's own has begun

    def first(session):
        started.set()
        return _where(session)

    def held(session):
        assert started.wait(20)
        return _where(session)

    with services.session() as mine:
        threads = [where[0] for where in reads.run(mine, [first, held, _where])]
        assert threads[0] == me and threads[1].startswith("read") and threads[2] == me
        # a process without helpers reads one after another, in the caller's session
        assert SideBySide(services.engine, helpers=0).run(mine, [_where, _where]) == [(me, 42)] * 2


def test_a_helpers_error_reaches_the_caller_and_frees_the_helper(services):
    reads = SideBySide(services.engine, helpers=1)

    def broken(session):
        session.execute(text("SELECT * FROM no_such_table"))

    with services.session() as mine:
        with pytest.raises(Exception, match="no_such_table"):
            reads.run(mine, [_where, broken])
        assert reads.run(mine, [_where, _where])[1][0].startswith("read")  # the helper is back


def test_an_in_memory_database_is_read_one_after_another_in_the_callers_session():
    # each connection to ":memory:" opens a database of its own: a helper would find no table
    engine = make_engine("sqlite:///:memory:")
    with Session(engine) as mine:
        mine.execute(text("CREATE TABLE t (n INTEGER)"))
        mine.execute(text("INSERT INTO t VALUES (42)"))

        def read(session):
            return threading.current_thread().name, session.execute(text("SELECT n FROM t")).scalar_one()
        me = threading.current_thread().name
        assert SideBySide(engine, helpers=2).run(mine, [read, read, read]) == [(me, 42)] * 3
