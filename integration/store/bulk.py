"""Statements that stay fast as tables grow, on SQLite and PostgreSQL alike: a key among many, many
rows in one statement, and fresh planner statistics after a bulk load."""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session


def is_postgres(session: Session) -> bool:
    """Whether ``session`` talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def one_of(session: Session, column: Any, values: Iterable[Any]) -> Any:
    """The condition ``column`` equals one of ``values``.

    On PostgreSQL ``column = ANY(:values)``: one array parameter, so every batch is the same
    statement whatever its size, planned with the values it carries. Elsewhere ``IN (...)``.
    """
    values = list(values)
    if is_postgres(session):
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def insert_rows(session: Session, model: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (column values by name, the same names in each) in one executemany.

    A Core INSERT: the ORM's bulk INSERT fetches each new primary key and, on PostgreSQL, sends
    one statement per row to do so; nothing here needs the keys back.
    """
    if rows:
        session.execute(model.__table__.insert(), list(rows))


class Statistics:
    """Keeps PostgreSQL's planner statistics of tables a long sync fills (SQLite plans without).

    A first sync loads a connection's rows into tables whose statistics still say "empty", and
    autovacuum's ANALYZE comes minutes later: until then every lookup may be planned as a scan.
    ``grew`` runs ANALYZE each time the rows added since the start have doubled (from ``first``),
    so a load of N rows costs about log2(N / first) short ANALYZEs, and once more at ``done``.
    """

    def __init__(self, tables: Sequence[str], first: int = 1000) -> None:
        self.tables = tables
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
        """The load is over: bring the statistics up to date if rows came since the last ANALYZE."""
        if self.added > self.analysed:
            self.analyse(session)

    def analyse(self, session: Session) -> None:
        """ANALYZE the tables now (on PostgreSQL)."""
        self.analysed = self.added
        if is_postgres(session):
            for table in self.tables:
                session.execute(text(f'ANALYZE "{table}"'))
