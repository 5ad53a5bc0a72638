"""Compacting a SQLite book (``integration/store/compaction.py``) on real SQLite files: VACUUM puts
each index's pages in key order, keeps every row, and refuses (changing nothing) when the disk is
short or a writer holds the lock."""
from __future__ import annotations

import random
import sqlite3
import threading
from collections import namedtuple

import pytest

from integration.store import compaction
from integration.store.compaction import CompactionRefused, space_short, sqlite_path, vacuum
from integration.store.db import upgrade

ROWS = 20_000


def _ascending_leaves(path, index: str) -> float:
    """The share of an index's leaf pages, in key order, that lie after the one before them in
    the file: what makes a read of the index from disk sequential."""
    conn = sqlite3.connect(path)
    pages = [p for (p,) in conn.execute(
        "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY path", (index,))]
    conn.close()
    return sum(b > a for a, b in zip(pages, pages[1:])) / (len(pages) - 1)


@pytest.fixture()
def scattered_book(tmp_path):
    """A migrated service database with an index filled in random key order, many commits, and
    a third of its rows deleted: its leaf pages lie all over the file, with free pages between."""
    path = tmp_path / "journey.sqlite3"
    upgrade(f"sqlite:///{path}")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, k TEXT, payload TEXT)")
    conn.execute("CREATE INDEX ix_filler_k ON filler (k, payload)")
    keys = list(range(ROWS))
    random.Random(7).shuffle(keys)
    for start in range(0, ROWS, 500):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO filler (k, payload) VALUES (?, ?)",
                         [(f"key {k:06d}", "x" * 80) for k in keys[start:start + 500]])
        conn.execute("COMMIT")
    conn.execute("DELETE FROM filler WHERE id % 3 = 0")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def test_vacuum_puts_an_index_in_key_order_keeps_every_row_and_frees_the_deleted_pages(scattered_book):
    def counts():
        conn = sqlite3.connect(scattered_book)
        found = (conn.execute("SELECT count(*), group_concat(k, ',') FROM (SELECT k FROM filler ORDER BY id)")
                 .fetchone(), conn.execute("PRAGMA freelist_count").fetchone()[0])
        conn.close()
        return found

    rows_before, free_before = counts()
    scattered = _ascending_leaves(scattered_book, "ix_filler_k")
    assert free_before > 0 and scattered < 0.8

    done = vacuum(scattered_book, wait_seconds=5)

    rows_after, free_after = counts()
    assert rows_after == rows_before and rows_after[0] == ROWS - ROWS // 3
    assert free_after == 0
    assert _ascending_leaves(scattered_book, "ix_filler_k") > 0.95
    assert done.path == scattered_book and done.after == scattered_book.stat().st_size < done.before
    # the write-ahead log is handed back to the disk too
    wal = scattered_book.with_name(scattered_book.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_vacuum_waits_for_a_writer_and_then_gives_up_changing_nothing(scattered_book):
    writer = sqlite3.connect(scattered_book, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO filler (k, payload) VALUES ('written meanwhile', 'y')")
    before = scattered_book.stat().st_size
    with pytest.raises(CompactionRefused, match=r"stayed busy for 0.5 s.*nothing was changed.*--wait"):
        vacuum(scattered_book, wait_seconds=0.5)
    writer.execute("COMMIT")  # the writer's work is not lost
    assert writer.execute("SELECT count(*) FROM filler WHERE k = 'written meanwhile'").fetchone() == (1,)
    writer.close()
    assert scattered_book.stat().st_size == before


def test_vacuum_runs_once_a_short_write_is_done(scattered_book):
    writer = sqlite3.connect(scattered_book, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO filler (k, payload) VALUES ('written meanwhile', 'y')")
    threading.Timer(0.3, lambda: writer.execute("COMMIT")).start()
    done = vacuum(scattered_book, wait_seconds=10)
    writer.close()
    assert done.after < done.before
    conn = sqlite3.connect(scattered_book)
    assert conn.execute("SELECT count(*) FROM filler WHERE k = 'written meanwhile'").fetchone() == (1,)
    conn.close()


Usage = namedtuple("Usage", "total used free")


def test_a_short_disk_is_refused_before_anything_is_written(scattered_book, monkeypatch):
    size = scattered_book.stat().st_size
    # the copy and the write-ahead log share this disk: twice the file's size is needed
    monkeypatch.setattr(compaction.shutil, "disk_usage", lambda folder: Usage(10 * size, 0, int(1.5 * size)))
    reason = space_short(scattered_book, scattered_book.parent)
    assert reason is not None and str(scattered_book) in reason and str(scattered_book.parent) in reason
    assert f"needs {2 * size / 1e6:,.0f} MB free" in reason
    with pytest.raises(CompactionRefused, match="needs .* MB free"):
        vacuum(scattered_book, wait_seconds=1)
    assert sqlite3.connect(scattered_book).execute("PRAGMA freelist_count").fetchone()[0] > 0
    monkeypatch.setattr(compaction.shutil, "disk_usage", lambda folder: Usage(10 * size, 0, int(2.5 * size)))
    assert space_short(scattered_book, scattered_book.parent) is None


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CompactionRefused, match="no such database file"):
        vacuum(tmp_path / "nowhere.sqlite3", wait_seconds=1)


def test_a_file_that_is_no_database_is_refused_untouched(tmp_path):
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"not a database, " * 1000)
    with pytest.raises(CompactionRefused, match=r"notes.sqlite3: VACUUM failed, nothing was changed: .*not a database"):
        vacuum(path, wait_seconds=1)
    assert path.read_bytes() == b"not a database, " * 1000


@pytest.mark.parametrize("url, expected", [
    ("sqlite:///var/journey.sqlite3", "var/journey.sqlite3"),
    ("sqlite:////srv/book.sqlite3", "/srv/book.sqlite3"),
    ("sqlite://", None),
    ("sqlite:///:memory:", None),
    ("postgresql+psycopg://postgres@127.0.0.1:5432/test", None),
])
def test_only_a_sqlite_file_is_vacuumed(url, expected):
    found = sqlite_path(url)
    assert (None if found is None else str(found)) == expected
