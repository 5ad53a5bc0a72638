"""End-to-end syncs of N records per CRM against the sandboxes: full, echo and quiet.

- full: the first sync; it reads every record and writes every one back;
- echo: the sync right after, which reads our own write-back again (nothing else changed);
- quiet: the next one, with nothing changed anywhere.

Prints wall time, records per second, and API calls against the least the CRM's limits allow:
reading N records takes ceil(N / page) pages (Salesforce SOQL pages of 2,000, HubSpot search pages
of 200) and writing W changed records ceil(W / batch) batches (Salesforce collections of 200,
HubSpot batches of 100), each one call for HubSpot. Salesforce's composite request is one call
toward the API limits and carries up to five query operations or collections: "minimum" is
ceil(pages / 5) + ceil(W / 1,000), the least those limits allow. "minimum@200" and "floor@200"
are the earlier definitions (one page or one collection of 200 a call), kept so figures compare
with runs before composite. Salesforce's first sync must also read the opportunities' stage
history (OpportunityHistory rows, 2,000 a page): the "floor" column adds those pages to the pages
of "minimum" (its ratio is the one to judge a first sync by). Goals (issue 11): full within 1.10x
of the minimum, echo at most the read minimum plus 3 in half the full sync's time, quiet at most
3 calls. A pause of ``--pause`` seconds (61) separates the syncs, as the service syncs minutes
apart: Salesforce stamps are whole seconds (a record stamped in the second a pull began is read again by the next
sync), and each HubSpot pull reaches back 60 s before the last one began (search index lag): with
a shorter pause the quiet HubSpot sync finds the echoed records again in its overlap (and drops them).

    .venv/bin/python -m bench.bench_sync [--records N] [--latency-ms MS] [--pause S] [--crm CRM]
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

#: CRM -> (records per read page, records per write batch, pages or batches per call): the
#: limits that set the minimum. A Salesforce composite call holds 5 query operations or collections.
LIMITS = {"salesforce": (2000, 200, 5), "hubspot": (200, 100, 1)}


def minimum_calls(crm: str, read: int, written: int, *, extra_pages: int = 0, per_call: int | None = None) -> int:
    """The fewest API calls that can read ``read`` records (and ``extra_pages`` more pages) and
    write ``written``, ``per_call`` pages or batches a call (the CRM's limit by default)."""
    page, batch, most = LIMITS[crm]
    per_call = per_call or most
    return (math.ceil((math.ceil(read / page) + extra_pages) / per_call)
            + math.ceil(math.ceil(written / batch) / per_call))


def history_pages(seed: dict) -> int:
    """Pages of 2,000 OpportunityHistory rows a first Salesforce sync must read besides records."""
    opportunities = seed.get("salesforce", {}).get("opportunities", [])
    return math.ceil(sum(len(o.get("history") or ()) for o in opportunities) / 2000)


def run(crm: str, records: int, latency_ms: int, pause: float, workdir: Path) -> list[str]:
    """Sync ``records`` records of one CRM three times (full, echo, quiet); return report lines."""
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
        walls: dict[str, float] = {}
        for label in ("full", "echo", "quiet"):
            time.sleep(pause)
            started = time.monotonic()
            summary = sync_connection(services, connection_id, requested_by="bench")
            wall = walls[label] = time.monotonic() - started
            least = minimum_calls(crm, summary.read, summary.written)
            single = minimum_calls(crm, summary.read, summary.written, per_call=1)
            history = history_pages(seed) if crm == "salesforce" and label == "full" else 0
            floor = minimum_calls(crm, summary.read, summary.written, extra_pages=history)
            floor_single = minimum_calls(crm, summary.read, summary.written, extra_pages=history, per_call=1)
            calls = summary.api_calls
            lines.append(
                f"{crm:10s} {label:5s} read {summary.read:6d}  written {summary.written:6d}  "
                f"wall {wall:7.2f} s ({wall / walls['full']:.2f} of full)  api calls {calls:4d}  "
                f"minimum {least:4d}  ratio {calls / max(least, 1):.2f}  floor {floor:4d}  "
                f"ratio {calls / max(floor, 1):.2f}  minimum@200 {single:4d}  ratio {calls / max(single, 1):.2f}  "
                f"floor@200 {floor_single:4d}  ratio {calls / max(floor_single, 1):.2f}  status {summary.status}")
            lines.append(f"{'':16s} calls by route: {json.dumps(summary.calls_by_route)}")
    finally:
        sandbox.stop()
        services.engine.dispose()
    return lines


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark for both CRMs and print one line per sync."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--pause", type=float, default=61.0)
    parser.add_argument("--crm", choices=sorted(LIMITS), action="append",
                        help="run only this CRM (repeatable; default: both)")
    args = parser.parse_args(argv)
    print(f"end-to-end sync, {args.records} records per CRM, {args.latency_ms} ms added latency per call")
    with tempfile.TemporaryDirectory() as tmp:
        for crm in args.crm or ("salesforce", "hubspot"):
            for line in run(crm, args.records, args.latency_ms, args.pause, Path(tmp)):
                print(line, flush=True)


if __name__ == "__main__":
    main()
