"""Planner statistics as syncs fill tables (integration/store/planner_statistics.py): SQLite
tables are analysed when they have none or their size has doubled or halved since, never for a
small load; PostgreSQL ones at every check; and a pooled SQLite connection plans with the new
statistics once the pool renews it."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlmodel import Session

from integration.store import db as store_db
from integration.store.db import make_engine
from integration.store.planner_statistics import SQLITE_FEWEST_ROWS, Statistics
from tests.fixtures_store import _postgres_database
from tests.support import statements_sent


def _sqlite(tmp_path, name="stats"):
    engine = make_engine(f"sqlite:///{tmp_path / f'{name}.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, kind INTEGER, n INTEGER)"))
        conn.execute(text("CREATE INDEX ix_t_kind ON t (kind)"))
        conn.execute(text("CREATE INDEX ix_t_n ON t (n)"))
    return engine


def _add(session: Session, start: int, rows: int, kinds: int = 2) -> int:
    session.execute(text("INSERT INTO t (kind, n) VALUES (:kind, :n)"),
                    [{"kind": n % kinds, "n": n} for n in range(start, start + rows)])
    return rows


def _counted(engine) -> int | None:
    """The row count t's statistics were taken at (None: never analysed)."""
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first() is None:
            return None
        stats = conn.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 't'")).scalars().all()
    return max((int(stat.split()[0]) for stat in stats), default=None)


def _load(engine, start: int, rows: int, page: int | None = None) -> None:
    """A sync's load of ``rows`` rows ``page`` at a time (all in one unless given), as the pull
    checks its statistics."""
    statistics = Statistics(("t",))
    page = page or rows
    with Session(engine) as session:
        for first in range(start, start + rows, page):
            statistics.grew(session, _add(session, first, min(page, start + rows - first)))
        statistics.done(session)
        session.commit()


def test_sqlite_tables_are_analysed_when_new_or_twice_as_big(tmp_path):
    engine = _sqlite(tmp_path)
    _load(engine, 0, SQLITE_FEWEST_ROWS - 1)
    assert _counted(engine) is None  # too small to need them
    _load(engine, SQLITE_FEWEST_ROWS - 1, 2001)
    assert _counted(engine) == 3000  # big enough, and none yet
    _load(engine, 3000, 2500)
    assert _counted(engine) == 3000  # 5,500 rows: less than twice the size analysed
    _load(engine, 5500, 1000)
    assert _counted(engine) == 6500  # now twice as big
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM t WHERE id > 2000"))
    _load(engine, 10_000, 1000)
    assert _counted(engine) == 3000  # under half of what it was, after the load's 1,000
    engine.dispose()


def test_a_long_sqlite_load_is_analysed_as_it_doubles(tmp_path):
    engine = _sqlite(tmp_path)
    _load(engine, 0, 5000, page=500)
    # checked at 1,000 (none yet), 2,000 (twice 1,000), 4,000 (twice 2,000) and at the end
    # (5,000: not twice 4,000)
    assert _counted(engine) == 4000
    engine.dispose()


def test_a_small_sqlite_load_does_not_count_the_tables(tmp_path):
    engine = _sqlite(tmp_path)
    _load(engine, 0, 5000)
    with statements_sent(engine) as sent:
        _load(engine, 5000, 999)
    assert [s for s, _ in sent if "count(" in s or "ANALYZE" in s or "sqlite_stat1" in s] == []
    assert _counted(engine) == 5000
    engine.dispose()


def test_postgres_tables_are_analysed_at_every_check():
    url, drop = _postgres_database("planner_stats")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id SERIAL PRIMARY KEY, kind INTEGER, n INTEGER)"))
        _load(engine, 0, 1500)
        _load(engine, 1500, 10)  # a small load too: PostgreSQL's ANALYZE reads a sample
        with engine.connect() as conn:
            assert conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 't'")).scalar() == 1510
    finally:
        engine.dispose()
        drop()


@pytest.mark.parametrize("renew", [0, 3600])
def test_a_pooled_sqlite_connection_plans_with_new_statistics_once_renewed(tmp_path, monkeypatch, renew):
    """A connection reads statistics when it opens: the pool renews its connections (every
    SQLITE_RENEW_SECONDS) so those another process's ANALYZE left reach them; a connection
    kept longer would plan with the old ones."""
    monkeypatch.setattr(store_db, "SQLITE_RENEW_SECONDS", renew)
    engine = _sqlite(tmp_path)
    with engine.begin() as conn:
        _add(conn, 0, 20_000)
    plan = "EXPLAIN QUERY PLAN SELECT id FROM t WHERE kind = 1 AND n > 19990"
    with engine.connect() as conn:
        assert "ix_t_kind" in conn.execute(text(plan)).all()[0][-1]  # guessed: equality first
    other = make_engine(f"sqlite:///{tmp_path / 'stats.sqlite3'}")
    with other.begin() as conn:
        conn.execute(text("ANALYZE"))  # half the rows are of kind 1, ten are past 19990
    other.dispose()
    time.sleep(0.05)
    with engine.connect() as conn:
        chosen = conn.execute(text(plan)).all()[0][-1]
    assert ("ix_t_n" in chosen) == (renew == 0), chosen
    engine.dispose()


def test_the_stall_pass_analyses_a_sqlite_book_that_never_was(tmp_path):
    """A database synced by a version that never analysed SQLite (or grown by small syncs) gets
    its statistics from the next stall pass of any connection: they are the database's."""
    from bench.analytics_seed import seed
    from integration.map_review import apply_map
    from integration.services import build_services
    from integration.store.db import upgrade
    from integration.store.types import utcnow
    from integration.sync.reevaluate import reevaluate
    from mapping import default_map, map_to_yaml
    from tests.fixtures_store import add_connection, make_settings

    url = f"sqlite:///{tmp_path / 'book.sqlite3'}"
    upgrade(url)
    services = build_services(make_settings(url, tmp_path))
    try:
        with services.session() as db:
            cid, other = (add_connection(db, "stats", name) for name in ("book", "new"))
            apply_map(db, other, map_to_yaml(default_map()), author="t")
        seed(services.engine, cid, default_map(), 1200, utcnow())
        with services.engine.connect() as conn:
            assert conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first() is None
        reevaluate(services, other)
        with services.engine.connect() as conn:
            analysed = dict(conn.execute(text(
                "SELECT tbl, max(CAST(stat AS INTEGER)) FROM sqlite_stat1 GROUP BY tbl")).all())
    finally:
        services.engine.dispose()
    # the tables big enough to need statistics, counted as they are
    assert analysed["recordstate"] == 1200 and analysed["journeysummary"] == 1200
    assert analysed["journeyevent"] > 1200 and "outboxitem" not in analysed
