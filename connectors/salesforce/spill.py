"""Rows of a Bulk API result kept on disk, looked up by key, so a million-record pull joins stage
history to its records without holding either in memory.

A Bulk API 2.0 query comes back in no useful order (an ORDER BY would stop Salesforce chunking
the job), so the history of a full pull cannot be streamed alongside the records the way the
REST pull does. It is spilled into a private temporary SQLite database (SQLite's ``""`` file:
on disk, deleted when closed) and read back per page of records.
"""
from __future__ import annotations

import sqlite3
from typing import Any, Iterable, Iterator, Mapping, Sequence

#: Keys per lookup statement (SQLite allows 32,766 variables).
LOOKUP_CHUNK = 900


class Spill:
    """``(key, row)`` pairs on disk; :meth:`rows` gives the rows of some keys, each key's ordered
    by the ``order_by`` column (then load order)."""

    def __init__(self, columns: Sequence[str], order_by: str | None = None) -> None:
        self.columns = list(columns)
        self._order = f"c{self.columns.index(order_by)}, " if order_by else ""
        self._db = sqlite3.connect("")
        cells = ", ".join(f"c{i}" for i in range(len(self.columns)))
        self._db.execute(f"CREATE TABLE spill (seq INTEGER PRIMARY KEY, key TEXT NOT NULL, {cells})")

    def load(self, pages: Iterable[Sequence[Mapping[str, Any]]], key: str) -> int:
        """Store every row of ``pages`` under its ``key`` column; returns the rows stored."""
        marks = ", ".join("?" * (len(self.columns) + 1))
        names = ", ".join(f"c{i}" for i in range(len(self.columns)))
        stored = 0
        for page in pages:
            self._db.executemany(f"INSERT INTO spill (key, {names}) VALUES ({marks})",
                                 ([row[key], *(row.get(c) for c in self.columns)] for row in page))
            stored += len(page)
        self._db.execute("CREATE INDEX spill_key ON spill (key, seq)")
        self._db.commit()
        return stored

    def rows(self, keys: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The rows stored under ``keys``, grouped by key (sorted)."""
        ordered = sorted(set(keys))
        for start in range(0, len(ordered), LOOKUP_CHUNK):
            chunk = ordered[start:start + LOOKUP_CHUNK]
            cursor = self._db.execute(
                f"SELECT {', '.join(f'c{i}' for i in range(len(self.columns)))} FROM spill "
                f"WHERE key IN ({', '.join('?' * len(chunk))}) ORDER BY key, {self._order}seq", chunk)
            for values in cursor:
                yield dict(zip(self.columns, values))

    def close(self) -> None:
        """Drop the database (its file goes with it)."""
        self._db.close()
