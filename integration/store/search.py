"""Record search (``q=``) on the record's name, e-mail and company, in any case.

A text of three characters or more matches as a substring: ``lower(column) LIKE '%text%'``
(``%`` and ``_`` in the text are literal). A text of one or two letters or digits (a-z, 0-9)
matches the start of a word: ``q=42`` finds "Company 42" and "42nd Street" but not
"r1042@example.com", ``q=do`` finds "Jane.Doe@Example.com". A word starts a column or follows a
character of :data:`WORD_SEPARATORS` (ASCII spaces and punctuation); other characters, letters
with accents among them, are part of words. A short text holding anything else (``q=@e``,
``q=é``) matches as a substring, as a long one does. Why: a substring of one or two characters
is held by most records and no index narrows it when it is not (a miss read every record: seconds
at a million); the start of a word is what someone typing one or two characters looks for, and an
index serves it.

Each condition is one SQL test that means the same on both databases; an index finds the
candidates first and the test decides, so both answer alike:

- substrings: on PostgreSQL pg_trgm GIN indexes on ``lower(column)`` (migration 0013), used by the
  planner for the LIKE condition itself; on SQLite an FTS5 table with the trigram tokenizer over
  the three columns (migration 0018), kept in step with ``recordstate`` by triggers, whose MATCH
  narrows the rows to those holding the text's trigrams in any case;
- word starts: on PostgreSQL the same pg_trgm indexes serve the test itself, a regular
  expression (``(^|[separators])ab``) from which pg_trgm draws the trigrams a word start leaves
  (its words are padded with blanks), used by the planner for a rare head and skipped for a
  common one; on SQLite an FTS5 table of words (migration 0024: unicode61 tokenizer, prefix
  indexes of one and two characters) whose prefix query finds the candidates. SQLite's plan
  reads every candidate, which for a head most records hold (``q=r``: all of a million) costs
  seconds where reading the records in a page's order finds its rows at once; so a page or a
  capped count first asks the index how many records hold the head (:func:`dense_head`) and,
  when so many do that reading in order costs less, tests the records in order without it.

When the SQLite library lacks FTS5's trigram tokenizer (before 3.34), the migrations leave the
tables out and every search is the scan.
"""
from __future__ import annotations

import math
import sqlite3
from typing import Any

from sqlalchemy import and_, or_, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement, func, literal

#: The FTS5 table of SQLite's substring index (its rowid is ``recordstate.id``).
FTS_TABLE = "recordstate_search"
#: The FTS5 table of SQLite's word index (its rowid is ``recordstate.id``).
WORDS_TABLE = "recordstate_words"
#: The columns searched, all of ``recordstate``: the record's name, the person's e-mail address
#: and the company (Salesforce account or lead company, HubSpot contact company).
SEARCHED = ("name", "email", "company")
#: The shortest text the trigram index can find; shorter ones match the start of a word.
MIN_INDEXED = 3
#: The characters a word follows (besides the start of a column): ASCII control characters,
#: space and punctuation, as ranges of code points.
WORD_SEPARATORS = ((0x01, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7F))
#: The matches a capped count reads at most (``record_pages.COUNT_LIMIT``), which weighs
#: :func:`dense_head`.
DENSE_READS = 1_000


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


@compiles(trigram_candidates, "sqlite")
def _candidates_sqlite(element: trigram_candidates, compiler: Any, **kw: Any) -> str:
    row_id, phrase = element.clauses
    return _rowids_matching(compiler, row_id, FTS_TABLE, phrase, **kw)


class word_candidates(FunctionElement):  # noqa: N801 - named like the SQL it renders
    """SQL: whether the record whose id is given may have a word starting with the short text
    given (letters and digits, lower case): SQLite's word index; true elsewhere. Untyped, as
    :class:`trigram_candidates`."""

    inherit_cache = True


@compiles(word_candidates, "sqlite")
def _words_sqlite(element: word_candidates, compiler: Any, **kw: Any) -> str:
    row_id, head = element.clauses
    # a prefix query ("ab"*) is one look-up in the table's prefix index
    return _rowids_matching(compiler, row_id, WORDS_TABLE, literal('"') + head + literal('"*'), **kw)


@compiles(trigram_candidates)
@compiles(word_candidates)
def _candidates_default(element: Any, compiler: Any, **kw: Any) -> str:
    return "true"


def _rowids_matching(compiler: Any, row_id: Any, table: str, query: Any, **kw: Any) -> str:
    """SQLite: the record id is one of the rows of the FTS5 ``table`` matching ``query``; true
    ("1") on a SQLite without the FTS5 trigram tokenizer, where the search tables do not exist."""
    if not SQLITE_TRIGRAM:
        return "1"
    return (f"{compiler.process(row_id, **kw)} IN (SELECT rowid FROM {table} "
            f"WHERE {table} MATCH {compiler.process(query, **kw)})")


class starts_word(FunctionElement):  # noqa: N801 - named like the SQL it renders
    """SQL: whether a word of the text (lower case) starts with the short text given (letters and
    digits, lower case): at the start of the text or after a :data:`WORD_SEPARATORS` character."""

    inherit_cache = True


def _separator_class(escape: Any) -> str:
    return "".join(f"{escape(low)}-{escape(high)}" for low, high in WORD_SEPARATORS)


@compiles(starts_word, "sqlite")
def _starts_word_sqlite(element: starts_word, compiler: Any, **kw: Any) -> str:
    column, head = (compiler.process(clause, **kw) for clause in element.clauses)
    # GLOB is case-sensitive and takes [a-b] classes; the head has no GLOB wildcard in it
    anywhere = "'*[" + _separator_class(chr).replace("'", "''") + "]'"
    return f"({column} GLOB {head} || '*' OR {column} GLOB {anywhere} || {head} || '*')"


@compiles(starts_word, "postgresql")
def _starts_word_postgresql(element: starts_word, compiler: Any, **kw: Any) -> str:
    column, head = (compiler.process(clause, **kw) for clause in element.clauses)
    # the head is letters and digits: no regular expression syntax in it
    return f"{column} ~ ('(^|[" + _separator_class(lambda c: f"\\x{c:02x}") + "])' || " + head + ")"


def fts_phrase(text: str) -> str:
    """``text`` as one FTS5 phrase (quoted; a quote inside doubled): with the trigram tokenizer it
    matches the text as a substring of a column."""
    return '"' + text.replace('"', '""') + '"'


def is_word_head(needle: str) -> bool:
    """Whether a (lower-case) search text matches the start of a word: one or two ASCII letters
    or digits (see the module docstring)."""
    return len(needle) < MIN_INDEXED and needle.isascii() and needle.isalnum()


def dense_head(session: Any, q: str) -> bool:
    """Whether ``q`` is a word head so many records hold that a page finds its matches sooner by
    reading the records in its order than through the word index, on SQLite; false elsewhere
    (PostgreSQL's planner weighs its index with statistics of its own).

    Through the index, SQLite reads every candidate: a cost of ``h`` rows for a head ``h``
    records hold. In order, a capped count reads about ``DENSE_READS / d`` rows to reach its last
    match, ``d = h / n`` being the share of the ``n`` records holding the head. The two cost the
    same at ``h = sqrt(DENSE_READS * n)`` (31,623 records of a million, 10,000 of 100,000); a head
    held by that many is dense. Both figures are of the whole table, read at once: ``n`` is the
    highest record id, ``h`` the index's candidates counted no further than that bound.

    Weighed once per session and head: a records page and its count, or every page of a CSV
    export, ask again within one request.
    """
    needle = q.lower()
    if session.get_bind().dialect.name != "sqlite" or not SQLITE_TRIGRAM or not is_word_head(needle):
        return False
    weighed = session.info.setdefault("dense_heads", {})
    if needle not in weighed:
        weighed[needle] = _holders_reach_bound(session, needle)
    return weighed[needle]


def _holders_reach_bound(session: Any, needle: str) -> bool:
    """Whether the word index holds at least ``sqrt(DENSE_READS * records)`` candidates for
    ``needle`` (see :func:`dense_head`)."""
    records = session.execute(text("SELECT coalesce(max(id), 0) FROM recordstate")).scalar()
    bound = max(1, math.ceil(math.sqrt(DENSE_READS * records)))
    found = session.execute(text(
        f"SELECT count(*) FROM (SELECT rowid FROM {WORDS_TABLE} WHERE {WORDS_TABLE} MATCH :query "
        f"LIMIT :bound)"), {"query": f'"{needle}"*', "bound": bound}).scalar()
    return found >= bound


def search_condition(q: str, row_id: Any, columns: Any, dense: bool = False) -> Any:
    """The condition "``q`` is found in one of ``columns`` (the record's name, e-mail and
    company)" on the records whose id column is ``row_id``: a substring in any case, or the start
    of a word for one or two letters or digits (see the module docstring). ``dense`` (a
    :func:`dense_head`) leaves the word index out."""
    needle = q.lower()
    if is_word_head(needle):
        head = literal(needle)
        starts = or_(*(starts_word(func.lower(column), head) for column in columns))
        return starts if dense else and_(word_candidates(row_id, head), starts)
    scan = or_(*(func.lower(column).contains(needle, autoescape=True) for column in columns))
    if len(needle) < MIN_INDEXED:
        return scan
    return and_(trigram_candidates(row_id, literal(fts_phrase(needle))), scan)
