"""The store at scale: a first sync of N Salesforce opportunities on SQLite and on PostgreSQL.

For each database: the first sync (reads every opportunity with its history, writes every one
back), then the echo sync (reads our own write-back again: nothing the journey depends on changed),
then what the store holds. Prints per database:

- wall time and records per second of the first and the echo sync;
- rows the echo sync wrote: state rows updated, journey events inserted, outbox items planned
  (0 wanted: nothing changed);
- bytes per record: the state table with its indexes and the journey events, as the database
  reports them (SQLite ``dbstat``, PostgreSQL ``pg_total_relation_size``: free space and dead
  row versions included), a live state row alone, and the record, state and CRM values documents
  as stored;

then the ratio PostgreSQL / SQLite of the first sync (goal: at most 1.5, and under 3 minutes for
100,000 opportunities). PostgreSQL gets a database of its own (``journey_bench_store``, dropped and
made anew; ``--pg-database`` names another) next to ``JOURNEY_TEST_POSTGRES_URL`` or the local
server's ``test`` database.

    nice -n 10 .venv/bin/python -m bench.bench_store [--records N] [--databases sqlite,postgres]
        [--book plain|demo]
"""
from __future__ import annotations

import argparse
import cProfile
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, text
from sqlalchemy.engine import make_url
from sqlmodel import select

from bench.bench_salesforce import seed as opportunity_seed
from integration.config import Settings
from integration.connecting import connect, provision
from integration.demo.seed import demo_seed
from integration.map_review import apply_map
from integration.sandboxes import make_sandbox, sandbox_settings
from integration.services import build_services
from integration.store.db import upgrade
from integration.store.models import JourneyEvent, OutboxItem, RecordState
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from mapping import default_map_text

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_DATABASE = "journey_bench_store"
#: Books of N opportunities: ``plain`` (bench_salesforce's: two or three history rows each, any
#: size) or ``demo`` (the demo's: richer records and histories, at most 10,000 opportunities).
BOOKS = {"plain": lambda n: {"salesforce": opportunity_seed(n)},
         "demo": lambda n: demo_seed(utcnow(), opportunities=n, leads=0, sf_contacts=0, deals=0,
                                     hs_contacts=0)}
#: The most opportunities a book holds (the demo's ids number them in four digits, 0000-9999).
MOST = {"demo": 10_000}
#: The stored documents of a state row, measured apart from the rest of the row.
DOCUMENTS = ("record", "state", "crm_values")


def postgres_url(database: str = PG_DATABASE) -> str:
    """A fresh, empty PostgreSQL database for the benchmark (dropped first if it exists)."""
    base = os.environ.get("JOURNEY_TEST_POSTGRES_URL", DEFAULT_PG)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return make_url(base).set(database=database).render_as_string(hide_password=False)


def table_bytes(session: Any, table: str) -> int:
    """Bytes a table takes with its indexes (and, on PostgreSQL, its TOAST)."""
    if session.get_bind().dialect.name == "postgresql":
        return session.execute(text("SELECT pg_total_relation_size(:t)"), {"t": table}).scalar()
    return session.execute(text(
        "SELECT SUM(pgsize) FROM dbstat WHERE name = :t OR name IN "
        "(SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t)"), {"t": table}).scalar()


def row_bytes(session: Any, table: str) -> float:
    """Average bytes of a live row as stored, without indexes, free space or dead row versions
    (PostgreSQL ``pg_column_size`` of the row; SQLite ``dbstat`` payload)."""
    if session.get_bind().dialect.name == "postgresql":
        return session.execute(text(f'SELECT avg(pg_column_size(t.*)) FROM "{table}" t')).scalar()
    payload = session.execute(text("SELECT SUM(payload) FROM dbstat WHERE name = :t"), {"t": table}).scalar()
    return payload / session.execute(text(f'SELECT count(*) FROM "{table}"')).scalar()


def document_bytes(session: Any, connection_id: int) -> dict[str, int]:
    """Bytes of each stored document of the connection's state rows, summed, as stored."""
    size = (func.pg_column_size if session.get_bind().dialect.name == "postgresql" else func.length)
    row = session.execute(select(*(func.sum(size(getattr(RecordState, name))) for name in DOCUMENTS))
                          .where(RecordState.connection_id == connection_id)).one()
    return dict(zip(DOCUMENTS, (int(n or 0) for n in row)))


def rows_written_since(session: Any, connection_id: int, moment: datetime,
                       last_event_id: int) -> dict[str, int]:
    """State rows updated, journey events inserted and outbox items planned since ``moment``."""
    def count(model: Any, *where: Any) -> int:
        return session.execute(select(func.count()).select_from(model).where(
            model.connection_id == connection_id, *where)).scalar()

    return {"states": count(RecordState, RecordState.updated_at >= moment),
            "events": count(JourneyEvent, JourneyEvent.id > last_event_id),
            "outbox": count(OutboxItem, OutboxItem.created_at >= moment)}


def last_event_id(session: Any) -> int:
    """The newest journey event's id (0 when there is none)."""
    return session.execute(select(func.max(JourneyEvent.id))).scalar() or 0


def run(database: str, records: int, workdir: Path, profile: Path | None,
        book: str = "plain", pg_database: str = PG_DATABASE) -> dict[str, Any]:
    """First and echo sync of ``records`` opportunities on ``database``; the figures."""
    url = postgres_url(pg_database) if database == "postgres" else f"sqlite:///{workdir / 'bench.sqlite3'}"
    settings = Settings(data_dir=workdir, secret_key=Fernet.generate_key().decode(),
                        session_secret="bench", database_url=url)
    upgrade(url)
    services = build_services(settings)
    sandbox = make_sandbox("salesforce", seed=BOOKS[book](records)).start()
    figures: dict[str, Any] = {"database": database, "records": records}
    try:
        with services.session() as session:
            tenant = get_or_create_tenant(session, "bench")
            conn = connect(session, services, tenant_id=tenant.id, name="sf", crm="salesforce",
                           values=sandbox_settings("salesforce", sandbox.info()))
            apply_map(session, conn.id, default_map_text(), author="bench")
            connection_id = conn.id
        provision(services, connection_id)
        for label in ("first", "echo"):
            with services.session() as session:
                before = last_event_id(session)
            started_at, started = utcnow(), time.monotonic()
            summary = _timed_sync(services, connection_id,
                                  profile and profile.with_name(f"{profile.name}.{label}.prof"))
            wall = time.monotonic() - started
            figures[label] = {"seconds": round(wall, 1), "records_per_second": round(summary.read / wall),
                              "read": summary.read, "written": summary.written,
                              "status": summary.status}
            if label == "echo":
                with services.session() as session:
                    figures[label]["rows_written"] = rows_written_since(
                        session, connection_id, started_at, before)
        with services.session() as session:
            stored = session.execute(select(func.count()).select_from(RecordState)).scalar()
            documents = document_bytes(session, connection_id)
            figures["bytes_per_record"] = {
                "state_table": round(table_bytes(session, "recordstate") / stored),
                "state_row": round(row_bytes(session, "recordstate")),
                "journey_events": round(table_bytes(session, "journeyevent") / stored),
                **{name: round(n / stored) for name, n in documents.items()}}
    finally:
        sandbox.stop()
        services.engine.dispose()
    return figures


def _timed_sync(services: Any, connection_id: int, profile: Path | None) -> Any:
    call: Callable[[], Any] = lambda: sync_connection(services, connection_id, requested_by="bench")
    if profile is None:
        return call()
    profiler = cProfile.Profile()
    summary = profiler.runcall(call)
    profiler.dump_stats(str(profile))
    return summary


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark on each database and print its figures and the PostgreSQL/SQLite ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--book", choices=sorted(BOOKS), default="plain")
    parser.add_argument("--pg-database", default=PG_DATABASE,
                        help="the PostgreSQL database to make anew (default %(default)s)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of each sync here "
                                                      "(named PROFILE.<database>.<first|echo>.prof)")
    args = parser.parse_args(argv)
    if args.records > MOST.get(args.book, args.records):
        parser.error(f"--records: the {args.book} book holds at most {MOST[args.book]:,} opportunities")
    print(f"store at scale: first and echo sync of {args.records} Salesforce opportunities "
          f"({args.book} book), "
          f"load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
    results = {}
    for database in args.databases.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            profile = args.profile.with_suffix(f".{database}") if args.profile else None
            results[database] = figures = run(database, args.records, Path(tmp), profile, args.book,
                                                   args.pg_database)
        print(f"{database:8s} {figures}", flush=True)
    if {"sqlite", "postgres"} <= results.keys():
        ratio = results["postgres"]["first"]["seconds"] / results["sqlite"]["first"]["seconds"]
        print(f"first sync PostgreSQL / SQLite: {ratio:.2f} (goal <= 1.5)")
    print(f"load average after: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")


if __name__ == "__main__":
    main()
