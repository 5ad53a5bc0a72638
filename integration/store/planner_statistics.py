"""Planner statistics kept up to date as syncs fill the tables, on PostgreSQL and on SQLite.

Both planners choose among the indexes by the statistics ANALYZE leaves. A table loaded without
them is planned as if it were empty or of a guessed shape: PostgreSQL's autovacuum analyses it
minutes later, SQLite never. At 1,000,000 records an unanalysed SQLite book took 3.0-7.0 s for
views that take 0.16-0.64 s once analysed (a country's funnel and KPIs, an owner's cohorts, the
all-time dashboard; bench/RESULTS.md), and lookups during a first load are planned as walks.

The two ANALYZEs differ in cost. PostgreSQL's reads a sample of rows, so it is run each time the
rows a load added have doubled. SQLite's reads every row of every index of the table (10-30 s for
the state, event and summary tables at 1,000,000 records, holding the database's one write lock
meanwhile), so a SQLite table is analysed only when its size has doubled or halved since its
statistics were taken, or it has none yet: over a table's growth from nothing that costs about
twice one ANALYZE of its final size. The rows' proportions (records per connection, per
country, per stage), which the plans depend on, change slowly compared with that.

SQLite reads the statistics when a connection opens (or analyses), so the other connections of
a pool see new ones when the pool renews them (``integration/store/db.py``).
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import text
from sqlmodel import Session

from integration.store.bulk import is_postgres

#: Tables a sync fills; their statistics are kept fresh as they grow (without, PostgreSQL planned
#: each page's DELETE of 500 journey summaries as a walk through the table: 129 s of a 355 s first
#: sync of 100,000 records).
SYNC_TABLES = ("recordstate", "journeyevent", "journeysummary", "outboxitem")
#: Tables whose SQLite statistics the stall pass checks: those syncs and people passes fill a
#: little at a time, and those of a database upgraded from a version that never analysed them.
CHECKED_HOURLY = (*SYNC_TABLES, "recordlink", "peoplesummary")
#: A SQLite table with fewer rows plans well enough without statistics; not worth an ANALYZE.
SQLITE_FEWEST_ROWS = 1000
#: How far a SQLite table's size may move from the size its statistics were taken at (a factor,
#: either way) before it is analysed again.
SQLITE_DRIFT = 2


class Statistics:
    """Keeps the planner statistics of tables a sync fills (see the module docstring).

    ``grew`` checks them each time the rows added since the start have doubled (from ``first``),
    so a load of N rows costs about log2(N / first) checks, and once more at ``done``; a load of
    fewer than ``first`` rows checks nothing on SQLite, where a check counts the tables' rows.
    """

    def __init__(self, tables: Sequence[str], first: int = 1000) -> None:
        self.tables = tables
        self.first = first
        self.added = 0
        self.analysed = 0
        self.next = first

    def grew(self, session: Session, rows: int) -> None:
        """``rows`` more rows were added to the tables."""
        self.added += rows
        if self.added >= self.next:
            self.next = self.added * 2
            self.analyse(session)

    def done(self, session: Session) -> None:
        """The load is over: bring the statistics up to date if rows came since the last check."""
        if self.added > self.analysed and (is_postgres(session) or self.added >= self.first):
            self.analyse(session)

    def analyse(self, session: Session) -> None:
        """Bring the tables' statistics up to date now: ANALYZE each on PostgreSQL; on SQLite
        those :func:`keep_sqlite_statistics` finds stale."""
        self.analysed = self.added
        if not is_postgres(session):
            keep_sqlite_statistics(session, self.tables)
            return
        for table in self.tables:
            session.execute(text(f'ANALYZE "{table}"'))


def keep_sqlite_statistics(session: Session, tables: Sequence[str] = CHECKED_HOURLY) -> list[str]:
    """On SQLite, ANALYZE those of ``tables`` whose statistics are missing or were taken at
    another size (:func:`sqlite_stale`); returns them. Nothing on PostgreSQL, whose autovacuum
    analyses tables as they change."""
    if is_postgres(session):
        return []
    stale = [table for table in tables if sqlite_stale(session, table)]
    for table in stale:
        session.execute(text(f'ANALYZE "{table}"'))
    return stale


def sqlite_stale(session: Session, table: str) -> bool:
    """Whether SQLite ``table`` (of at least :data:`SQLITE_FEWEST_ROWS` rows) has no statistics,
    or holds :data:`SQLITE_DRIFT` times more or fewer rows than when they were taken."""
    rows = session.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
    if rows < SQLITE_FEWEST_ROWS:
        return False
    if session.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first() is None:
        return True
    # each row's stat begins with the table's row count when it was analysed
    stats = session.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = :table"),
                            {"table": table}).scalars().all()
    if not stats:
        return True
    then = max(int(stat.split()[0]) for stat in stats)
    return rows >= then * SQLITE_DRIFT or rows * SQLITE_DRIFT <= then
