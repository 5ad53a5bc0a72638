"""Statements that stay fast as tables grow, on SQLite and PostgreSQL alike: a key among many, and
many rows in one statement (planner statistics after a bulk load: ``planner_statistics.py``)."""
from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import any_, bindparam, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session


#: INSERT with ON CONFLICT, by dialect name: the two databases' own constructs.
INSERTS = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


log = logging.getLogger("journey.store")


def upsert_unless_busy(session: Session, model: Any, row: Mapping[str, Any], key: Sequence[str],
                       changed: Mapping[str, Any], what: str) -> None:
    """Insert ``row``, or set ``changed`` on the row of the same ``key`` columns, in a savepoint
    of its own. For writes a read serves along the way (an analytics answer kept, a view noted):
    SQLite busy with a sync's writes past its timeout costs the write, logged as ``what``, never
    the request."""
    insert = INSERTS[session.get_bind().dialect.name]
    try:
        with session.begin_nested():
            session.execute(insert(model).values(**row).on_conflict_do_update(
                index_elements=list(key), set_=dict(changed)))
    except OperationalError as exc:
        log.warning("%s not kept: %s", what, exc)


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
    """Insert ``rows`` (column values by name, the same names in each) in one statement.

    On PostgreSQL one ``COPY ... FROM STDIN`` when the rows name every column that has a default
    computed here (an executemany is a statement a row for the server to parse and run); elsewhere
    a Core INSERT executemany. Never the ORM's bulk INSERT: it fetches each new primary key and,
    on PostgreSQL, sends one statement per row to do so; nothing here needs the keys back.
    """
    if not rows:
        return
    table = model.__table__
    if is_postgres(session) and not any(column.default is not None and column.name not in rows[0]
                                        for column in table.columns):
        _copy_rows(session, table, rows)
    else:
        session.execute(table.insert(), list(rows))


def _copy_rows(session: Session, table: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """COPY ``rows`` into ``table`` in the session's transaction, each value bound as its column's
    type binds it (packed documents, UTC stamps, JSON); a database error surfaces as SQLAlchemy's
    (``IntegrityError`` for a broken unique key), as an INSERT's would."""
    dialect = session.get_bind().dialect
    names = list(rows[0])
    binders = [_binder(table, name, dialect) for name in names]
    quote = dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(name) for name in names)}) FROM STDIN"
    driver = session.connection().connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([bind(row[name]) if bind else row[name]
                                for name, bind in zip(names, binders)])
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(statement, None, exc, dialect.loaded_dbapi.Error) from exc


def update_rows(session: Session, model: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Set columns of rows found by ``id`` (each row: its ``id`` and the same column names).

    On PostgreSQL one ``UPDATE ... FROM unnest(arrays)``: an executemany is a statement a row for
    the server (17 s of a 100,000-record write-back's results, against about 2 s). Elsewhere the
    ORM's bulk UPDATE by primary key, one executemany.
    """
    if not rows:
        return
    if not is_postgres(session):
        session.execute(update(model), list(rows))
        return
    table = model.__table__
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    names = ["id", *(name for name in rows[0] if name != "id")]
    arrays, casts = {}, []
    for n, name in enumerate(names):
        bind = _binder(table, name, dialect)
        arrays[f"c{n}"] = [bind(row[name]) if bind else row[name] for row in rows]
        sql_type = table.c[name].type.dialect_impl(dialect).compile(dialect=dialect)
        casts.append(f"CAST(:c{n} AS {sql_type}[])")
    columns = ", ".join(quote(name) for name in names)
    statement = (f"UPDATE {quote(table.name)} AS t SET "
                 + ", ".join(f"{quote(name)} = u.{quote(name)}" for name in names[1:])
                 + f" FROM unnest({', '.join(casts)}) AS u({columns}) WHERE t.id = u.id")
    session.execute(text(statement), arrays)


def _binder(table: Any, name: str, dialect: Any) -> Any:
    """How column ``name`` of ``table`` binds a value on ``dialect`` (packed documents, UTC
    stamps, JSON), or None when the driver takes the value as it is: statements written here by
    hand must bind as the ORM would."""
    return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
