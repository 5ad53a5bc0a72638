"""Compacting a SQLite book (``journey db vacuum``): SQLite's VACUUM, with its disk space checked
first and its wait for the write lock bounded.

A book filled by syncs scatters each table's and index's pages over the file: every page split
takes the next free page, wherever it lies. Warm, that costs nothing; read from disk (the first
call after the machine started, or after the kernel paged the file out) every page is a random
read. At 1,000,000 records the last year's funnel read its 250 MB of journey summaries in
4.1-4.9 s that way, and in 0.78 s once VACUUM had rewritten the file with each table and index
in one run of pages, in key order (bench/RESULTS.md). PostgreSQL has nothing to compact for
this: its analytics scan tables, whose pages it appends in order.

VACUUM holds the database's write lock until it is done (about 35 s at 1,000,000 records, on a
3.8 GB file): syncs and webhooks wait meanwhile, so run it in a quiet hour. It writes a copy of
the database to the temporary folder and then every page again to the write-ahead log, so it
needs the file's size free in each before it starts.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url


class CompactionRefused(Exception):
    """VACUUM was not run, or did not finish; the database is as it was. The message says why."""


@dataclass(frozen=True)
class Compacted:
    """What a VACUUM did: the file's size before and after (bytes) and how long it took."""

    path: Path
    before: int
    after: int
    seconds: float


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite database URL; None for PostgreSQL (or an in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def space_short(path: Path, temp_folder: Path) -> str | None:
    """Why VACUUM of ``path`` would run out of disk, or None if it has room: it needs the file's
    size free in ``temp_folder`` (its copy) and again beside the file (the write-ahead log), both
    on one disk when the folders share it."""
    size = path.stat().st_size
    beside, temp = path.resolve().parent, temp_folder.resolve()
    needs = {beside: size}
    if os.stat(beside).st_dev == os.stat(temp).st_dev:
        needs[beside] += size
    else:
        needs[temp] = size
    for folder, needed in needs.items():
        free = shutil.disk_usage(folder).free
        if free < needed:
            return (f"VACUUM of {path} ({_mb(size)}) needs {_mb(needed)} free in {folder}, which has "
                    f"{_mb(free)}: free some space, or point TMPDIR at a folder on another disk")
    return None


def vacuum(path: Path, wait_seconds: float) -> Compacted:
    """VACUUM the SQLite database at ``path`` and truncate its write-ahead log; waits at most
    ``wait_seconds`` for the write lock. Raises :class:`CompactionRefused` (nothing changed) when
    the file is missing, the disk is short or the lock stayed taken."""
    if not path.is_file():
        raise CompactionRefused(f"{path}: no such database file")
    short = space_short(path, Path(tempfile.gettempdir()))
    if short:
        raise CompactionRefused(short)
    before, started = path.stat().st_size, time.monotonic()
    conn = sqlite3.connect(path, timeout=wait_seconds, isolation_level=None)
    try:
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
            raise CompactionRefused(
                f"{path}: the database stayed busy for {wait_seconds:g} s (a sync or the web app "
                "is writing); nothing was changed: run it again in a quiet hour, or wait longer "
                "(--wait)") from None
        raise CompactionRefused(f"{path}: VACUUM failed, nothing was changed: {exc}") from None
    finally:
        conn.close()
    return Compacted(path, before, path.stat().st_size, time.monotonic() - started)


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"
