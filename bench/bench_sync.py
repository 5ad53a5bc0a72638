"""End-to-end sync of N records per CRM against the sandboxes: the first sync and a no-change re-sync.

Prints wall time, records per second, and API calls against the least the CRM's limits allow:
reading N records takes ceil(N / page) calls (Salesforce SOQL pages of 2,000, HubSpot search pages
of 200) and writing W changed records ceil(W / batch) calls (200 and 100).

    .venv/bin/python -m bench.bench_sync [--records N] [--latency-ms MS]
"""
from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from integration.config import Settings
from integration.connecting import connect, provision
from integration.demo.seed import demo_seed
from integration.map_review import apply_map
from integration.sandboxes import SandboxControl, make_sandbox, sandbox_settings
from integration.services import build_services
from integration.store.db import upgrade
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from mapping import default_map_text

#: CRM -> (records per read page, records per write call): the limits that set the minimum.
LIMITS = {"salesforce": (2000, 200), "hubspot": (200, 100)}


def minimum_calls(crm: str, read: int, written: int) -> int:
    """The fewest API calls that can read ``read`` records and write ``written``."""
    page, batch = LIMITS[crm]
    return math.ceil(read / page) + math.ceil(written / batch)


def run(crm: str, records: int, latency_ms: int, workdir: Path) -> list[str]:
    """Sync ``records`` records of one CRM twice; return the report lines."""
    now = utcnow()
    counts = {"salesforce": dict(opportunities=records, leads=0, sf_contacts=0, deals=0, hs_contacts=0),
              "hubspot": dict(opportunities=0, leads=0, sf_contacts=0, deals=records, hs_contacts=0)}
    seed = demo_seed(now, **counts[crm])
    settings = Settings(data_dir=workdir, secret_key=Fernet.generate_key().decode(),
                        session_secret="bench", database_url=f"sqlite:///{workdir / f'{crm}.sqlite3'}")
    upgrade(settings.resolved_database_url)
    services = build_services(settings)
    sandbox = make_sandbox(crm, seed=seed).start()
    lines = []
    try:
        with services.session() as session:
            tenant = get_or_create_tenant(session, "bench")
            conn = connect(session, services, tenant_id=tenant.id, name=crm, crm=crm,
                           values=sandbox_settings(crm, sandbox.info()))
            apply_map(session, conn.id, default_map_text(), author="bench")
            connection_id = conn.id
        provision(services, connection_id)
        SandboxControl(crm, sandbox).faults(latency_ms=latency_ms)
        for label in ("first sync", "no-change re-sync"):
            started = time.monotonic()
            summary = sync_connection(services, connection_id, requested_by="bench")
            wall = time.monotonic() - started
            least = minimum_calls(crm, summary.read, summary.written)
            lines.append(
                f"{crm:10s} {label:18s} read {summary.read:6d}  written {summary.written:6d}  "
                f"wall {wall:7.2f} s  {summary.read / wall:8.0f} rec/s  api calls {summary.api_calls:4d}"
                f"  minimum {least:4d}  ratio {summary.api_calls / max(least, 1):.2f}  "
                f"status {summary.status}")
            lines.append(f"{'':10s} {'':18s} calls by route: {json.dumps(summary.calls_by_route)}")
    finally:
        sandbox.stop()
        services.engine.dispose()
    return lines


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark for both CRMs and print one line per sync."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args(argv)
    print(f"end-to-end sync, {args.records} records per CRM, {args.latency_ms} ms added latency per call")
    with tempfile.TemporaryDirectory() as tmp:
        for crm in ("salesforce", "hubspot"):
            for line in run(crm, args.records, args.latency_ms, Path(tmp)):
                print(line, flush=True)


if __name__ == "__main__":
    main()
