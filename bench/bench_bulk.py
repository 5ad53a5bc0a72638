"""Benchmark: a first (full) sync of a big Salesforce org through Bulk API 2.0, on SQLite, with the
sync process's memory watched throughout.

The sandbox runs in a child process (``--serve``), so the figures are the sync's alone: peak RSS
(``ru_maxrss``) against the RSS before the sync began, RSS every 10% of the records read (flat
means the pull streams), wall time of the pull (with the write-backs the engine sends as pages
arrive) and of what follows it, records per second, and the API calls by route. The connection keeps the default ``bulk_threshold`` (50,000),
so the opportunities are read by Bulk query jobs and written back by ingest jobs. Run it once,
niced, on a shared machine; the load average is printed with the figures.

    nice -n 10 .venv/bin/python -m bench.bench_bulk [--records 1000000]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

#: Where the memory limit of the issue sits (a figure to compare with, not a test).
LIMIT_MB = 500


def serve(records: int) -> None:
    """Child: a sandbox holding ``records`` opportunities; prints its info line, serves until stdin closes."""
    from bench.bench_salesforce import seed
    from connectors.salesforce.sandbox import SalesforceSandbox

    sandbox = SalesforceSandbox(seed(records), daily_quota=10_000_000).start()
    print(json.dumps(sandbox.info()), flush=True)
    sys.stdin.read()
    sandbox.stop()


def rss_mb() -> float:
    """This process's resident set size now, in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Watch:
    """Samples RSS every 0.2 s, and at each tenth of the records read."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.peak = 0.0
        self.at_tenths: list[tuple[int, float]] = []
        self.pull_done: float | None = None
        self.written = 0
        self._flush_done = 0
        self._flushed_before = 0
        self.written_during_pull = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "Watch":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, rss_mb())

    def progress(self, what: str, done: int, _total: int | None) -> None:
        """The sync's progress callback."""
        if what == "write":
            # Each flush counts from 0 and only up: a count that does not grow starts the next.
            if done <= self._flush_done:
                self._flushed_before += self._flush_done
            self._flush_done = done
            self.written = self._flushed_before + done
            return
        self.pull_done = time.monotonic()
        self.written_during_pull = self.written
        tenth = (done * 10) // max(self.total, 1)
        if what == "opportunity" and tenth > len(self.at_tenths):
            self.at_tenths.append((done, rss_mb()))


def run(records: int, workdir: Path) -> list[str]:
    """One full sync of ``records`` opportunities; report lines."""
    from integration.config import Settings
    from integration.connecting import connect, provision
    from integration.map_review import apply_map
    from integration.sandboxes import sandbox_settings
    from integration.services import build_services
    from integration.store.db import upgrade
    from integration.store.tenancy import get_or_create_tenant
    from integration.sync.engine import sync_connection
    from mapping import default_map_text

    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-m", "bench.bench_bulk", "--serve", str(records)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        info = json.loads(child.stdout.readline())
        seeded = time.monotonic() - started
        settings = Settings(data_dir=workdir, secret_key=Fernet.generate_key().decode(), session_secret="bench",
                            database_url=f"sqlite:///{workdir / 'bulk.sqlite3'}",
                            sync_time_limit_seconds=6 * 3600)
        upgrade(settings.resolved_database_url)
        services = build_services(settings)
        with services.session() as session:
            tenant = get_or_create_tenant(session, "bench")
            conn = connect(session, services, tenant_id=tenant.id, name="big-org", crm="salesforce",
                           values={**sandbox_settings("salesforce", info), "bulk_poll_seconds": 0.5})
            apply_map(session, conn.id, default_map_text(), author="bench")
            connection_id = conn.id
        provision(services, connection_id)
        before = rss_mb()
        load = os.getloadavg()
        with Watch(records) as watch:
            began = time.monotonic()
            summary = sync_connection(services, connection_id, requested_by="bench", progress=watch.progress)
            wall = time.monotonic() - began
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        pull = (watch.pull_done or began) - began
        services.engine.dispose()
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=120)
    tenths = "  ".join(f"{done // 1000}k:{mb:.0f}" for done, mb in watch.at_tenths)
    return [
        f"full sync of {records} Salesforce opportunities through Bulk API 2.0 on SQLite "
        f"(load average {load[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end; sandbox seeded in {seeded:.0f} s)",
        f"status {summary.status}  read {summary.read}  changed {summary.changed}  written {summary.written}  "
        f"failed {summary.failed}",
        f"wall {wall:.0f} s ({summary.read / max(wall, 1e-9):.0f} records/s): the pull with its classification, "
        f"storage and the {watch.written_during_pull} write-backs sent as pages arrived {pull:.0f} s, "
        f"then people, owners and the rest of the write-back {wall - pull:.0f} s",
        f"sync process RSS: {before:.0f} MB before the sync, peak {peak:.0f} MB (limit {LIMIT_MB} MB: "
        f"{peak / LIMIT_MB:.2f} of it); sampled peak {watch.peak:.0f} MB",
        f"RSS (MB) by opportunities read: {tenths}",
        f"API calls {summary.api_calls}: {json.dumps(summary.calls_by_route)}",
    ]


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (or, with ``--serve``, be its sandbox)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for line in run(args.records, Path(tmp)):
            print(line, flush=True)


if __name__ == "__main__":
    main()
