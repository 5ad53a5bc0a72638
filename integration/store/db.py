"""Engine, sessions and schema upgrades (alembic) for SQLite and PostgreSQL."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
#: How long a pooled SQLite connection is used before it is closed and opened afresh.
SQLITE_RENEW_SECONDS = 600


def make_engine(url: str) -> Engine:
    """An engine for ``url``. SQLite gets WAL and a busy timeout so web and worker can share it,
    and connections renewed every :data:`SQLITE_RENEW_SECONDS`; PostgreSQL sessions run without
    JIT compilation and plan random reads as SSDs serve them."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _create_private_file(Path(parsed.database))
        # A connection reads the planner statistics when it opens: renewed every ten minutes,
        # the pool's connections plan with those a sync's ANALYZE left (planner_statistics.py).
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_recycle=SQLITE_RENEW_SECONDS)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # No JIT: it compiles each costly query before running it, 150-270 ms that a sub-second
    # analytics query (the workspace funnel at a million records) pays and never earns back.
    # A random page read is planned at 2 sequential ones, not 4 (PostgreSQL's default, set for
    # spinning disks; its documentation suggests lower values for solid-state storage or data
    # mostly in memory). Measured at 1,000,000 records: at 4 the planner scans a whole table to
    # join a few records it could look up by key (one owner's analytics read 720,000 journey
    # summaries for 20,000: that owner's dashboard 0.58-0.94 -> 0.49-0.83 s, journeys page
    # 1.09-1.48 -> 0.73-0.99 s, bench/RESULTS.md); at 1.1 it also walks whole indexes one row at
    # a time where a parallel scan takes half as long (90 days' cohorts 170 -> 346 ms).
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                         connect_args={"options": "-c jit=off -c random_page_cost=2"})


def scratch_postgres(base_url: str, tag: str, prefix: str = "journey"
                     ) -> tuple[str, Callable[[], None]]:
    """Create an empty PostgreSQL database ``<prefix>_<tag>_<random>`` on ``base_url``'s server
    (tests and benchmarks); return its URL and a function that drops it, ending its sessions."""
    name = f"{prefix}_{tag}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:
        admin.dispose()
        raise

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return make_url(base_url).set(database=name).render_as_string(hide_password=False), drop


def _create_private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (SQLite gives its -wal and -shm files the
    same mode); its folder is made owner-only too when this creates it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at the packaged migrations and ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creating it from nothing if needed)."""
    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    """The alembic revision the database is at (None when it was never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class SchemaBehind(RuntimeError):
    """The database is not at the revision this code needs; ``journey db upgrade`` brings it there."""


def require_current_schema(engine: Engine) -> None:
    """Raise :class:`SchemaBehind` unless the database is at the migrations' head.

    Migrations are a release step (``journey db upgrade``), never a side effect of starting a
    web worker: several workers starting at once must not race to alter the schema.
    """
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(str(engine.url))).get_heads())
    current = current_revision(engine)
    if current not in heads:
        where = engine.url.render_as_string(hide_password=True)
        raise SchemaBehind(f"the database at {where} is at schema revision {current or 'none (empty)'}, "
                           f"this version needs {', '.join(sorted(heads))}: run `journey db upgrade` "
                           "first (the Procfile's release step)")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
