"""The people pass over a workspace of N person records in two CRMs, a quarter of them linked.

Stored records only (no CRM calls). After a sync the pass re-links the records stored since the
last pass with the people they leave or join; the stall pass re-links every record. Prints the
wall time of a first pass (every link new, every linked record re-planned), of a pass after a
sync that stored nothing, of one after a sync that stored one contact with a new e-mail, of the
stall pass over every record, and the least a pass over every record can cost: one read of the
stored records.

    .venv/bin/python -m bench.bench_people [--records N]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select

from integration.config import Settings
from integration.services import build_services
from integration.store.connections import create_connection
from integration.store.db import upgrade
from integration.store.models import RecordState
from integration.store.records import states_by_key
from integration.store.tenancy import get_or_create_tenant
from integration.store.types import utcnow
from integration.sync.people import refresh_people
from integration.sync.verdicts import Judged, judge, save_page
from mapping import CrmRecord, StageChange, default_map
from mapping.records import Identity

PAGE = 1000


def _records(crm: str, count: int, now) -> list[CrmRecord]:
    """Person records; every fourth shares its e-mail address with the other CRM's record."""
    stages = {"salesforce": ("lead", "Working - Contacted"), "hubspot": ("contact", "lead")}
    obj, stage = stages[crm]
    out = []
    for i in range(count):
        email = f"person{i}@shared.example" if i % 4 == 0 else f"{crm}{i}@own.example"
        created = now - timedelta(days=30 + i % 90)
        out.append(CrmRecord(crm=crm, object=obj, id=f"{crm[:2]}{i:07d}", stage_value=stage,
                             created_at=created, modified_at=created, name=f"Person {i}",
                             history=(StageChange(stage, created),),
                             identity=Identity("person", email.upper() if i % 8 == 0 else email)))
    return out


def run(records: int, workdir: Path) -> list[str]:
    """Build the workspace, run the pass twice and the floor; the report lines."""
    now = utcnow()
    settings = Settings(data_dir=workdir, secret_key=Fernet.generate_key().decode(),
                        session_secret="bench", database_url=f"sqlite:///{workdir / 'people.sqlite3'}")
    upgrade(settings.resolved_database_url)
    services = build_services(settings)
    jmap = default_map()
    try:
        with services.session() as session:
            tenant_id = get_or_create_tenant(session, "bench").id
            ids = {crm: create_connection(session, services.secret_box, tenant_id=tenant_id, name=crm,
                                          crm=crm, settings={}, secrets={}).id
                   for crm in ("salesforce", "hubspot")}
        for crm, connection_id in ids.items():
            page = _records(crm, records // 2, now)
            for start in range(0, len(page), PAGE):
                with services.session() as session:
                    judged = [Judged(r, judge(r, jmap, now, {}), None, {}) for r in page[start:start + PAGE]]
                    save_page(session, connection_id, judged, jmap, now, refresh_events=True, run_id=None)
        lines = []

        def timed(label: str, *, full: bool = False) -> None:
            started = time.monotonic()
            with services.session() as session:
                result = refresh_people(session, tenant_id, ids["hubspot"], now, full=full)
            wall = time.monotonic() - started
            lines.append(f"{label:25s} records {result.records:7d}  linked {result.linked:6d}  "
                         f"re-planned {result.replanned:6d}  queued {result.queued:6d}  wall {wall:6.2f} s")

        timed("first pass")
        timed("nothing changed")
        # a sync stores one HubSpot contact whose e-mail now matches another Salesforce lead's
        moved = _records("hubspot", 1, now)[0]
        moved = replace(moved, identity=Identity("person", "person4@shared.example"))
        with services.session() as session:
            held = states_by_key(session, ids["hubspot"], [(moved.object, moved.id)])
            save_page(session, ids["hubspot"], [Judged(moved, judge(moved, jmap, now, {}),
                                                       held.get((moved.object, moved.id)), {})],
                      jmap, now + timedelta(seconds=1), refresh_events=False, run_id=None)
        timed("one e-mail changed")
        timed("stall pass (all records)", full=True)
        started = time.monotonic()
        with services.session() as session:
            rows = sum(1 for _ in session.execute(select(RecordState.record)).yield_per(1000))
        floor = time.monotonic() - started
        lines.append(f"{'floor':25s} one read of the {rows} stored records: {floor:.2f} s (what a "
                     "pass over every record costs at least)")
        return lines
    finally:
        services.engine.dispose()


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print one line per pass."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args(argv)
    print(f"people pass, {args.records} person records in two CRMs (a quarter linked), SQLite")
    with tempfile.TemporaryDirectory() as tmp:
        for line in run(args.records, Path(tmp)):
            print(line, flush=True)


if __name__ == "__main__":
    main()
