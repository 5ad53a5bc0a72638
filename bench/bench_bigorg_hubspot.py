"""A full sync of a big HubSpot portal (1,000,000 contacts by default): the sync process's peak
memory, its memory as the sync goes on, and the time.

The sandbox runs in a process of its own, so only the sync is measured; the sync also runs in a
process of its own (as ``journey sync`` would), which reports its peak resident set
(``ru_maxrss``) and its resident set at every tenth of the pull and of the write-back. Flat means
the figures stay where they are at the first tenth whatever the portal's size.

HubSpot's limits (110 requests per 10 s, 5 searches a second) would make a million-contact sync
take at least 10,000 write batches / 11 a second + 5,000 search pages / 5 a second: the floor is
printed. By default the sandbox's limits are raised (``--real-limits`` keeps them) so the run
measures the service rather than the limits; the connector's own rate budget then follows the
sandbox's.

    nice -n 10 .venv/bin/python -m bench.bench_bigorg_hubspot [--contacts N] [--database-url URL]
"""
from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

RATE_LIMIT, RATE_WINDOW, SEARCHES_PER_SECOND = 110, 10.0, 5
RAISED = {"rate_limit": 1_000_000, "rate_window_seconds": 10.0, "search_per_second": 100_000}


def serve_sandbox(contacts: int, real_limits: bool, out: Any, stop: Any) -> None:
    """Child process: a HubSpot sandbox of ``contacts`` synthetic contacts until ``stop`` is set;
    puts its connection details and resident set once loaded, then its peak resident set."""
    from connectors.hubspot.sandbox import HubSpotSandbox
    from connectors.hubspot.sandbox.generate import populate

    limits = {} if real_limits else RAISED
    sandbox = HubSpotSandbox({}, **limits)
    populate(sandbox.portal, contacts=contacts)
    loaded = _cpu_seconds()
    out.put({"info": sandbox.start().info(), "rss_mb": _rss_mb(), "cpu_s": loaded})
    stop.wait()
    sandbox.stop()
    out.put({"peak_rss_mb": _peak_rss_mb(), "serving_cpu_s": _cpu_seconds() - loaded})


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """CPU time this process used: unlike the wall clock, it hardly depends on the machine's load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def run_sync(settings: Any, connection_id: int, out: Any) -> None:
    """Child process: one full sync; puts its summary, peak RSS and RSS samples on ``out``.

    Each sample is printed as it is taken too, so a run stopped early still shows its curve."""
    from integration.services import build_services
    from integration.sync.engine import sync_connection

    services = build_services(settings)
    samples: list[tuple[str, int, float, float]] = []
    marks: dict[str, int] = {}
    started = time.monotonic()

    def progress(what: str, done: int, total: int | None) -> None:
        tenth = int(10 * done / total) if total else 0
        if marks.get(what, -1) < tenth:
            marks[what] = tenth
            samples.append((what, done, round(_rss_mb(), 1), time.monotonic() - started))
            print(f"  {what:8s} {done:>9,} of {total or 0:,}: {samples[-1][2]:6,.0f} MB at "
                  f"{samples[-1][3]:6.0f} s, load average {_load()}", flush=True)

    summary = sync_connection(services, connection_id, full=True, requested_by="bench",
                              progress=progress)
    seconds = time.monotonic() - started
    out.put({"summary": summary.to_dict(), "seconds": seconds, "peak_rss_mb": round(_peak_rss_mb(), 1),
             "samples": samples, "cpu_s": _cpu_seconds()})


def rate_floor_seconds(contacts: int) -> float:
    """Least time HubSpot's limits allow for reading and writing ``contacts`` records."""
    searches = math.ceil(contacts / 200)
    writes = math.ceil(contacts / 100)
    return max(searches / SEARCHES_PER_SECOND, (searches + writes) / RATE_LIMIT * RATE_WINDOW)


def minimum_calls(contacts: int) -> int:
    """Fewest calls a full sync of ``contacts`` contacts can make: search pages of 200, write
    batches of 100 (metadata reads aside)."""
    return math.ceil(contacts / 200) + math.ceil(contacts / 100)


def main(argv: list[str] | None = None) -> None:
    """Start the sandbox, connect, provision, run the measured full sync, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp directory")
    parser.add_argument("--real-limits", action="store_true",
                        help="keep HubSpot's rate limits in the sandbox (slow at this size)")
    args = parser.parse_args(argv)

    from integration.config import Settings
    from integration.connecting import connect, provision
    from integration.map_review import apply_map
    from integration.sandboxes import sandbox_settings
    from integration.services import build_services
    from integration.store.db import upgrade
    from integration.store.tenancy import get_or_create_tenant
    from mapping import default_map_text

    context = multiprocessing.get_context("spawn")  # the sync starts as small as a fresh process
    print(f"full sync of {args.contacts:,} HubSpot contacts; load average at start {_load()}",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        settings = Settings(data_dir=workdir, secret_key=Fernet.generate_key().decode(),
                            session_secret="bench",
                            database_url=args.database_url or f"sqlite:///{workdir / 'big.sqlite3'}",
                            sync_time_limit_seconds=24 * 3600)
        upgrade(settings.resolved_database_url)
        info_queue, stop = context.Queue(), context.Event()
        started = time.monotonic()
        sandbox = context.Process(target=serve_sandbox,
                                  args=(args.contacts, args.real_limits, info_queue, stop))
        sandbox.start()
        try:
            loaded = info_queue.get(timeout=3600)
            info = loaded["info"]
            print(f"sandbox ready in {time.monotonic() - started:.0f} s ({loaded['cpu_s']:.0f} s of "
                  f"CPU), resident set {loaded['rss_mb']:,.0f} MB; load average {_load()}", flush=True)
            services = build_services(settings)
            with services.session() as session:
                tenant = get_or_create_tenant(session, "bench-bigorg")
                values = sandbox_settings("hubspot", info)
                conn = connect(session, services, tenant_id=tenant.id, name="big", crm="hubspot",
                               values=values)
                apply_map(session, conn.id, default_map_text(), author="bench")
                connection_id = conn.id
            provision(services, connection_id)
            services.engine.dispose()
            result_queue = context.Queue()
            sync = context.Process(target=run_sync, args=(settings, connection_id, result_queue))
            sync.start()
            result = result_queue.get()
            sync.join()
        finally:
            stop.set()
            served = info_queue.get(timeout=60) if sandbox.is_alive() else None
            sandbox.join(timeout=60)
    summary = result["summary"]
    print(f"read {summary['read']:,}  written {summary['written']:,}  status {summary['status']}  "
          f"api calls {summary['api_calls']:,} against a minimum of {minimum_calls(args.contacts):,} "
          f"({summary['api_calls'] / minimum_calls(args.contacts):.2f}x)")
    print(f"sync seconds {result['seconds']:.0f}  ({summary['read'] / result['seconds']:,.0f} "
          f"records/s read and written; HubSpot's limits alone would need "
          f"{rate_floor_seconds(args.contacts):,.0f} s)")
    print(f"peak RSS of the sync process: {result['peak_rss_mb']:,.0f} MB")
    if served is not None:
        print(f"peak RSS of the sandbox process: {served['peak_rss_mb']:,.0f} MB")
    per_thousand = 1000 / max(summary["read"], 1)
    print(f"CPU seconds per 1,000 contacts: sync {result['cpu_s'] * per_thousand:.2f}"
          + (f", sandbox serving {served['serving_cpu_s'] * per_thousand:.2f}" if served else "")
          + " (the wall clock follows the machine's load; these hardly do)")
    print("RSS at each tenth of the pull and of the write-back (records done: MB at seconds):")
    for what, done, rss, at in result["samples"]:
        print(f"  {what:8s} {done:>9,}: {rss:6,.0f} MB at {at:6.0f} s")
    print(f"load average at the end {_load()}")


if __name__ == "__main__":
    main()
