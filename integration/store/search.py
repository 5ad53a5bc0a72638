"""Record search (``q=``): a case-insensitive substring of a record's name, e-mail or company.

The meaning is one SQL condition on both databases, ``lower(column) LIKE '%text%'`` (``%`` and
``_`` in the text are literal), which no B-tree index serves. Each database gets an index that
finds the candidates first:

- PostgreSQL: pg_trgm GIN indexes on ``lower(column)`` (migration 0013), used by the planner for
  the LIKE condition itself;
- SQLite: an FTS5 table with the trigram tokenizer over the three columns (migration 0018), kept
  in step with ``recordstate`` by triggers. Its MATCH narrows the rows to those holding the text's
  trigrams in any case; the LIKE condition then decides, so the answer is the scan's exactly.
  Trigrams need three characters: a shorter text is matched by the LIKE condition alone (a scan).

When the SQLite library lacks FTS5's trigram tokenizer (before 3.34), the migration leaves the
table out and every search is the scan.
"""
from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement, func, literal

#: The FTS5 table of SQLite's search index (its rowid is ``recordstate.id``).
FTS_TABLE = "recordstate_search"
#: The columns searched, all of ``recordstate``: the record's name, the person's e-mail address
#: and the company (Salesforce account or lead company, HubSpot contact company).
SEARCHED = ("name", "email", "company")
#: The shortest text the trigram index can find.
MIN_INDEXED = 3


def sqlite_has_trigram() -> bool:
    """Whether this process's SQLite library has FTS5 with the trigram tokenizer."""
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='trigram')")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


SQLITE_TRIGRAM = sqlite_has_trigram()


class trigram_candidates(FunctionElement):  # noqa: N801 - named like the SQL it renders
    """SQL: whether the record whose id is given may hold the FTS5 phrase given (SQLite's index);
    true elsewhere. Untyped: a Boolean would be compared with 1 on SQLite, which hides the IN
    from its planner (the rows would be scanned instead of fetched by id)."""

    inherit_cache = True


@compiles(trigram_candidates)
def _candidates_default(element: trigram_candidates, compiler: Any, **kw: Any) -> str:
    return "true"


@compiles(trigram_candidates, "sqlite")
def _candidates_sqlite(element: trigram_candidates, compiler: Any, **kw: Any) -> str:
    if not SQLITE_TRIGRAM:
        return "1"
    row_id, phrase = element.clauses
    return (f"{compiler.process(row_id, **kw)} IN (SELECT rowid FROM {FTS_TABLE} "
            f"WHERE {FTS_TABLE} MATCH {compiler.process(phrase, **kw)})")


def fts_phrase(text: str) -> str:
    """``text`` as one FTS5 phrase (quoted; a quote inside doubled): with the trigram tokenizer it
    matches the text as a substring of a column."""
    return '"' + text.replace('"', '""') + '"'


def search_condition(q: str, row_id: Any, columns: Any) -> Any:
    """The condition "``q`` is a substring of one of ``columns`` (the record's name, e-mail and
    company), in any case" on the records whose id column is ``row_id`` (see the module
    docstring)."""
    needle = q.lower()
    scan = or_(*(func.lower(column).contains(needle, autoescape=True) for column in columns))
    if len(needle) < MIN_INDEXED:
        return scan
    return and_(trigram_candidates(row_id, literal(fts_phrase(needle))), scan)
