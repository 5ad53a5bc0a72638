"""The map history page's work over a large stored book: what every version changed and the
conversion and time in stage 30 days before and after the chosen version, on SQLite and PostgreSQL.

Seeds N synthetic records (about three journey events each, ``bench.analytics_seed``) and ten map
versions, the newest saved a year ago (the busiest part of the book). Prints, per database, the
median and p95 of ten runs (``--runs``) of each step and of the whole page's data (computed, read back
from the analytics answers kept in the store when seen again, and after each new sync: the
version's windows have ended, so their figures are kept a day whatever the data does), the floor
(one COUNT of the events in the two 30-day windows: the least a computed answer must read), and
the peak Python memory of one run (tracemalloc), which stays flat whatever N is.

    .venv/bin/python -m bench.bench_map_history [--records N] [--db sqlite|postgres|both] [--runs R]
        [--keep [--prefix NAME]]

With ``--keep`` the database stays and is reused, as bench_records and bench_analytics keep theirs
(one kept book serves the three).
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Callable

from cryptography.fernet import Fernet
from sqlalchemy import delete, func, select, update

from bench.analytics_seed import seed
from bench.bench_analytics import database
from integration.config import Settings
from integration.map_review import apply_map, history, versions_effect
from integration.services import build_services
from integration.store.connections import create_connection
from integration.store.map_versions import current_map_version, list_map_versions
from integration.store.models import AnalyticsCache, Connection, JourneyEvent, RecordState
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.map_in_force import connection_map
from mapping import default_map, map_from_dict, map_to_dict, map_to_yaml

RUNS = 10
VERSIONS = 10


def _timed(step: Callable[[], object], runs: int,
           before: Callable[[], object] = lambda: None) -> tuple[float, float]:
    """Median and p95 milliseconds of ``runs`` runs of ``step`` (``before`` runs first, untimed)."""
    times = []
    for _ in range(runs):
        before()
        started = time.perf_counter()
        step()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def run(db: str, records: int, workdir: Path, runs: int = RUNS, keep: bool = False,
        prefix: str = "journey_bench") -> list[str]:
    """Seed (unless a kept database holds the book: bench_records' and bench_analytics' connection
    "bench" serves), then time each step; the report lines."""
    with database(db, records, workdir, keep, prefix) as (url, seeded_before):
        settings = Settings(data_dir=workdir, secret_key=Fernet.generate_key().decode(),
                            session_secret="bench", database_url=url)
        services = build_services(settings)
        now, jmap = utcnow(), default_map()
        with services.session() as s:
            tenant = get_or_create_tenant(s, "bench")
            conn = s.execute(select(Connection.id).where(Connection.name == "bench")).scalar() or \
                create_connection(s, services.secret_box, tenant_id=tenant.id, name="bench",
                                  crm="hubspot", settings={}, secrets={}).id
        started = time.perf_counter()
        if seeded_before:
            with services.engine.connect() as c:
                events = c.execute(select(func.count()).select_from(JourneyEvent)).scalar_one()
        else:
            events = seed(services.engine, conn, jmap, records, now)
        seeded = time.perf_counter() - started
        data = map_to_dict(jmap)
        with services.session() as s:
            for n in range(VERSIONS - len(list_map_versions(s, conn))):
                data["stages"][n % len(data["stages"])]["expected_days"] = 10 + n
                apply_map(s, conn, map_to_yaml(map_from_dict(data)), author="bench", comment=f"v{n}")
            # Versions a week apart, the newest a year ago: both windows hold a full month.
            for n, row in enumerate(list_map_versions(s, conn)):
                row.created_at = now - timedelta(days=365 + 7 * n)
                s.add(row)
        with services.session() as s:
            chosen = current_map_version(s, conn)
            jmap = connection_map(s, conn)[0]
            effective = chosen.created_at

            def floor() -> int:
                return s.execute(select(func.count()).select_from(JourneyEvent).where(
                    JourneyEvent.connection_id == conn,
                    JourneyEvent.occurred_at >= effective - timedelta(days=30),
                    JourneyEvent.occurred_at < effective + timedelta(days=30))).scalar_one()

            def page() -> None:
                history(s, conn, tenant.id)
                versions_effect(s, [conn], jmap, chosen, now)

            def forget() -> None:
                s.execute(delete(AnalyticsCache))

            def new_data() -> None:  # what a sync does: the connection's data stamp changes
                s.execute(update(RecordState).where(RecordState.id == s.execute(select(
                    func.min(RecordState.id)).where(RecordState.connection_id == conn)).scalar_one())
                    .values(updated_at=utcnow()))

            in_windows = floor()
            floor_ms = _timed(floor, runs)
            changes_ms = _timed(lambda: history(s, conn, tenant.id), runs)
            effect_ms = _timed(lambda: versions_effect(s, [conn], jmap, chosen, now), runs, forget)
            page_ms = _timed(page, runs, forget)
            kept_ms = _timed(page, runs)
            synced_ms = _timed(page, runs, new_data)
            tracemalloc.start()
            forget()
            page()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        services.engine.dispose()
    return [f"database: {db} ({runs} timed runs of each step)",
            f"records: {records:,}  events: {events:,} (seeded in {seeded:.0f} s)",
            f"events in the two 30-day windows: {in_windows:,}",
            f"changes of {VERSIONS} versions*   median {changes_ms[0]:8.1f} ms  p95 {changes_ms[1]:8.1f} ms",
            f"before/after figures     median {effect_ms[0]:8.1f} ms  p95 {effect_ms[1]:8.1f} ms",
            f"whole page's data        median {page_ms[0]:8.1f} ms  p95 {page_ms[1]:8.1f} ms",
            f"  seen again (kept)      median {kept_ms[0]:8.1f} ms  p95 {kept_ms[1]:8.1f} ms",
            f"  after each new sync    median {synced_ms[0]:8.1f} ms  p95 {synced_ms[1]:8.1f} ms",
            f"floor (COUNT of windows) median {floor_ms[0]:8.1f} ms  p95 {floor_ms[1]:8.1f} ms",
            f"ratio to floor (p95), computed: {page_ms[1] / floor_ms[1]:.1f}x, after a sync: "
            f"{synced_ms[1] / floor_ms[1]:.2f}x",
            f"peak Python memory of one page: {peak / 1e6:.1f} MB",
            "* each version's document is parsed once, then cached (first page load parses all)",
            f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"]


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--runs", type=int, default=RUNS, help="timed runs of each step")
    parser.add_argument("--keep", action="store_true",
                        help="keep the seeded databases (<prefix>_<records>) and reuse them")
    parser.add_argument("--prefix", default="journey_bench", help="name of the kept databases")
    args = parser.parse_args(argv)
    for db in (("sqlite", "postgres") if args.db == "both" else (args.db,)):
        with tempfile.TemporaryDirectory() as tmp:
            print("\n".join(run(db, args.records, Path(tmp), max(1, args.runs), args.keep,
                                args.prefix)), flush=True)
            print()


if __name__ == "__main__":
    main()
