"""HubSpot day counts over one day: what writing days in stage and days over expected costs.

A HubSpot connection with N deals is synced once; then the stall pass runs every hour of the next
day (its default interval), each pass followed by the outbox flush, as the worker does. Day counts
are written only when a record's whole-day value turns, so over the day each record that counts
(not in an exit) is written about once, 100 per batch call. Printed per day: records written,
batch calls, the least calls that many writes allow (ceil(writes / 100) per pass), and what a
counter rewritten at every pass would have cost.

    .venv/bin/python -m bench.bench_day_counts [--records N] [--hours H]
"""
from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlmodel import select

from integration.config import Settings
from integration.connecting import connect, provision
from integration.demo.seed import demo_seed
from integration.sandboxes import SandboxControl, make_sandbox, sandbox_settings
from integration.services import build_services
from integration.store.db import upgrade
from integration.store.models import Connection, RecordState
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.engine import sync_connection
from integration.sync.flush import flush_outbox
from integration.sync.reevaluate import reevaluate

BATCH = 100


def run(records: int, hours: int, workdir: Path) -> list[str]:
    """Sync ``records`` deals, then run ``hours`` hourly stall passes; return report lines."""
    now = utcnow()
    seed = demo_seed(now, opportunities=0, leads=0, sf_contacts=0, deals=records, hs_contacts=0)
    settings = Settings(data_dir=workdir, secret_key=Fernet.generate_key().decode(),
                        session_secret="bench", database_url=f"sqlite:///{workdir / 'hubspot.sqlite3'}")
    upgrade(settings.resolved_database_url)
    services = build_services(settings)
    sandbox = make_sandbox("hubspot", seed=seed).start()
    control = SandboxControl("hubspot", sandbox)
    try:
        with services.session() as session:
            tenant = get_or_create_tenant(session, "bench")
            connection_id = connect(session, services, tenant_id=tenant.id, name="hubspot", crm="hubspot",
                                    values=sandbox_settings("hubspot", sandbox.info())).id
        provision(services, connection_id)
        first = sync_connection(services, connection_id, requested_by="bench")
        with services.session() as session:
            states = [r.state for r in session.exec(select(RecordState).where(
                RecordState.connection_id == connection_id))]
            connector = services.open_connector(session.get(Connection, connection_id))
        counting = sum(1 for s in states if not s["unmapped"] and not s["is_exit"])
        written = calls = least = 0
        started = time.monotonic()
        for hour in range(1, hours + 1):
            before = _batch_calls(control)
            queued = reevaluate(services, connection_id, now=now + timedelta(hours=hour)).queued
            flushed = flush_outbox(services, connection_id, connector)
            written += flushed.written
            calls += _batch_calls(control) - before
            least += math.ceil(queued / BATCH)
        wall = time.monotonic() - started
        counter = counting * hours
        return [
            f"hubspot {records} deals: first sync wrote {first.written} ({first.api_calls} calls); "
            f"{counting} records count days (the others are in an exit)",
            f"{hours} hourly stall passes: {written} records written ({written / max(counting, 1):.2f} per "
            f"counting record), {calls} batch calls, minimum {least} (ratio {calls / max(least, 1):.2f}), "
            f"{wall:.1f} s with the flushes",
            f"a counter written at every pass: {counter} writes, {math.ceil(counting / BATCH) * hours} calls "
            f"({counter / max(written, 1):.0f}x the writes)",
        ]
    finally:
        sandbox.stop()
        services.engine.dispose()


def _batch_calls(control: SandboxControl) -> int:
    return sum(n for route, n in control.calls()["by_route"].items() if "batch/update" in route)


def main(argv: list[str] | None = None) -> None:
    """Run the day and print its figures with the machine's load."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--hours", type=int, default=24)
    args = parser.parse_args(argv)
    print(f"HubSpot day counts over {args.hours} hours, load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory() as tmp:
        for line in run(args.records, args.hours, Path(tmp)):
            print(line, flush=True)


if __name__ == "__main__":
    main()
