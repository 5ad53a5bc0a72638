"""Many portals on Celery: N HubSpot portals (50 deals, 50 contacts each; one workspace each),
synced by K `journey worker` processes on PostgreSQL and Redis, queued by `journey scheduler`.

For each K prints the time until every connection has synced once (and p50/p99 of the time each
connection waited for its first sync to be done: pulled, planned, written, its worker gone), API
calls against the least the API allows (per portal and object, its search pages of 200 and batch
updates of 100: 4 per portal here; metadata reads count against us, and how many there were is
printed), and 429s the sandbox answered (0 wanted). ``--kill`` repeats each run with one worker
killed with -9 once half the connections are done: its connection is picked up again when its
lease (``--lease`` s) runs out. With K = 1 a new worker is started right after the kill, as a
process supervisor would.

    .venv/bin/python -m bench.bench_scale [--portals 1000] [--workers 1,2,4] [--kill]

Needs PostgreSQL (JOURNEY_TEST_POSTGRES_URL, default the local ``test`` database) and Redis on
127.0.0.1:6379. Everything it starts it stops; its databases and Redis keys are removed.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import redis
import requests
from cryptography.fernet import Fernet
from sqlalchemy import func
from sqlmodel import select

from connectors.hubspot.connector import SEARCH_PAGE, WRITE_BATCH
from integration.config import Settings
from integration.connecting import connect, provision
from integration.demo.seed import demo_seed
from integration.map_review import apply_map
from integration.queue.processes import JourneyProcesses
from integration.sandboxes import sandbox_settings
from integration.services import build_services
from integration.store.db import scratch_postgres, upgrade
from integration.store.models import Connection, OutboxItem, RecordState
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from mapping import default_map_text

REDIS_URL = "redis://127.0.0.1:6379/0"
#: Sandbox routes (as its counters name them) that read CRM metadata (stage lists, owner names)
#: rather than records.
METADATA_ROUTES = ("GET /crm/v3/pipelines", "GET /crm/v3/properties", "GET /crm/v3/owners")
PG_URL = os.environ.get("JOURNEY_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def least_calls(records: dict[str, int]) -> int:
    """The fewest calls one portal's first sync can make when every record needs a write:
    its search pages and its batch updates, per object (metadata reads are not counted)."""
    return sum(math.ceil(n / SEARCH_PAGE) + math.ceil(n / WRITE_BATCH) for n in records.values() if n)


@dataclass
class Result:
    """What one run measured."""

    workers: int
    killed: bool
    portals: int
    synced: int
    seconds: float
    p50: float
    p99: float
    calls: int
    least: int
    metadata_calls: int
    rate_limited: int
    stored: int
    load: float

    def line(self) -> str:
        least = self.least
        return (f"K={self.workers} {'kill -9 one' if self.killed else 'no kill    '}  "
                f"synced {self.synced}/{self.portals} in {self.seconds:7.1f} s  "
                f"({self.synced / self.seconds:5.2f} portals/s)  per connection p50 {self.p50:6.1f} s "
                f"p99 {self.p99:6.1f} s  api calls {self.calls} vs minimum {least} "
                f"(ratio {self.calls / least:.2f}; {self.metadata_calls} of them metadata)  "
                f"429s {self.rate_limited}  records stored {self.stored}, outbox empty  "
                f"load average {self.load:.1f}")


def _done(services, seen: dict[int, datetime]) -> dict[int, datetime]:
    """Connections whose first sync is done (pulled and planned, nothing waiting in the outbox,
    no worker on it), with when each was first seen done. A run killed after its pull stays
    "running" in the run history, so the connection's own state is what counts."""
    with services.session() as s:
        waiting = set(s.exec(select(OutboxItem.connection_id).distinct().where(
            OutboxItem.status.in_(["pending", "sending"]))))
        now = utcnow()
        for cid, owner, until in s.exec(select(Connection.id, Connection.lease_owner,
                                               Connection.lease_expires_at).where(
                Connection.last_sync_at.is_not(None))):
            free = owner is None or until is None or until <= now  # a dead worker's lease expires
            if free and cid not in waiting and cid not in seen:
                seen[cid] = now
    return seen


def _leased_worker_pid(services, pids: list[int]) -> int | None:
    """A worker process in the middle of a connection's work (its pid from the lease owner)."""
    with services.session() as s:
        owners = s.exec(select(Connection.lease_owner).where(Connection.lease_owner.is_not(None)))
        for owner in owners:
            pid = int(owner.split(":")[2])
            if pid in pids:
                return pid
    return None


def run(portals: int, workers: int, kill: bool, seed_file: Path, records: dict[str, int],
        lease: int, workdir: Path, timeout: float, db_prefix: str = "journey") -> Result:
    """One run: set up N portals and connections, start K workers and the scheduler, wait."""
    db_url, drop = scratch_postgres(PG_URL, "bench_scale", db_prefix)
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    settings = Settings(data_dir=workdir, database_url=db_url, secret_key=Fernet.generate_key().decode(),
                        session_secret="bench", broker_url=REDIS_URL, redis_prefix=prefix,
                        lease_seconds=lease, worker_tick_seconds=1, sync_interval_seconds=86400,
                        stall_interval_seconds=86400, log_level="WARNING")
    upgrade(db_url)
    services = build_services(settings)
    procs = JourneyProcesses(settings, workdir)
    try:
        box = procs.start("sandbox", "sandbox", "hubspot", "--portals", str(portals), "--seed",
                          str(seed_file), stdout=subprocess.PIPE)
        infos = [json.loads(box.stdout.readline()) for _ in range(portals)]
        base_url = infos[0]["base_url"]
        ids = []
        with services.session() as s:
            for n, info in enumerate(infos):
                tenant = get_or_create_tenant(s, f"workspace-{n}")
                conn = connect(s, services, tenant_id=tenant.id, name=f"portal-{info['portal_id']}",
                               crm="hubspot", values=sandbox_settings("hubspot", info),
                               sync_interval_seconds=86400)
                apply_map(s, conn.id, default_map_text(), author="bench")
                ids.append(conn.id)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda cid: provision(services, cid), ids))
        requests.post(f"{base_url}/__sandbox__/counters/reset", timeout=30).raise_for_status()
        pids = [proc.pid for proc in procs.start_workers(workers)]
        started, t0 = time.monotonic(), utcnow()
        procs.start("scheduler", "scheduler")
        killed = not kill
        first: dict[int, datetime] = {}
        while len(first) < portals and time.monotonic() - started < timeout:
            time.sleep(0.5)
            first = _done(services, first)
            if not killed and len(first) >= portals // 2:
                victim = _leased_worker_pid(services, pids)
                if victim is not None:
                    os.kill(victim, signal.SIGKILL)
                    next(p for p in procs.procs.values() if p.pid == victim).wait()
                    killed = True
                    if workers == 1:  # none left: a supervisor starts a new one, as in production
                        procs.start_workers(1)
        seconds = time.monotonic() - started
        waits = sorted((done - t0).total_seconds() for done in first.values())
        calls = requests.get(f"{base_url}/__sandbox__/counters", timeout=30).json()
        with services.session() as s:
            stored = s.exec(select(func.count()).select_from(RecordState)).one()
        return Result(workers=workers, killed=kill, portals=portals, synced=len(first),
                      seconds=seconds,
                      p50=statistics.median(waits) if waits else math.nan,
                      p99=waits[min(len(waits) - 1, math.ceil(0.99 * len(waits)) - 1)] if waits else math.nan,
                      calls=calls["calls"], least=least_calls(records) * portals,
                      metadata_calls=sum(n for route, n in calls["by_route"].items()
                                         if route.startswith(METADATA_ROUTES)),
                      rate_limited=sum(p["rate_limited"] for p in calls["portals"].values()),
                      stored=stored, load=os.getloadavg()[0])
    finally:
        procs.stop()
        services.engine.dispose()
        drop()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*", count=1000):
            client.delete(key)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark for each K (and with a kill when asked); print one line per run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portals", type=int, default=1000)
    parser.add_argument("--deals", type=int, default=50)
    parser.add_argument("--contacts", type=int, default=50)
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    parser.add_argument("--kill", action="store_true", help="also run each K with one worker killed")
    parser.add_argument("--only-kill", action="store_true", help="only the runs with a worker killed")
    parser.add_argument("--lease", type=int, default=15, help="JOURNEY_LEASE_SECONDS of the run")
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up a run after this")
    parser.add_argument("--db-prefix", default="journey",
                        help="the scratch PostgreSQL database is named <prefix>_bench_scale_<random>")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop what a run started on the way out
    print(f"{args.portals} portals of {args.deals} deals and {args.contacts} contacts, one "
          f"workspace each, PostgreSQL + Redis, `journey worker --pool solo` processes", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        seed_file = Path(tmp) / "seed.json"
        seed = demo_seed(utcnow(), opportunities=0, leads=0, sf_contacts=0, deals=args.deals,
                         hs_contacts=args.contacts)
        seed_file.write_text(json.dumps({"hubspot": seed["hubspot"]}))
        for k in (int(w) for w in args.workers.split(",")):
            for kill in ((True,) if args.only_kill else (False, True) if args.kill else (False,)):
                workdir = Path(tempfile.mkdtemp(dir=tmp))
                records = {"deal": args.deals, "contact": args.contacts}
                print(run(args.portals, k, kill, seed_file, records, args.lease, workdir,
                          args.timeout, args.db_prefix).line(), flush=True)


if __name__ == "__main__":
    main()
