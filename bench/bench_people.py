"""The people pass over a workspace of N person records in two CRMs, a quarter of them linked.

Stored records only (no CRM calls): the pass reads every stored record's identity, links them,
classifies each person with several records, and plans what changed. Prints the wall time of a
first pass (every link new, every linked record re-planned), of a pass with nothing changed, and of
the least such a pass can cost: one read of the stored records it must look at.

    .venv/bin/python -m bench.bench_people [--records N]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select

from integration.config import Settings
from integration.services import build_services
from integration.store.connections import create_connection
from integration.store.db import upgrade
from integration.store.models import RecordState
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
        for label in ("first pass", "nothing changed"):
            started = time.monotonic()
            with services.session() as session:
                result = refresh_people(session, tenant_id, ids["hubspot"], now)
            wall = time.monotonic() - started
            lines.append(f"{label:16s} records {result.records:7d}  linked {result.linked:6d}  "
                         f"re-planned {result.replanned:6d}  queued {result.queued:6d}  wall {wall:6.2f} s")
        started = time.monotonic()
        with services.session() as session:
            rows = sum(1 for _ in session.execute(select(RecordState.record)).yield_per(1000))
        floor = time.monotonic() - started
        lines.append(f"{'floor':16s} one read of the {rows} stored records: {floor:.2f} s; "
                     f"the unchanged pass is {float(lines[-1].split('wall')[1].split()[0]) / max(floor, 1e-9):.1f}x that")
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
