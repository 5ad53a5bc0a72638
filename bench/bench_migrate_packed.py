"""Benchmark: the schema upgrade that packs stored record documents (migration ``*_packed_documents``)
on a big installation, on SQLite and on PostgreSQL.

Brings an empty database to the revision before that migration, stores N records as that schema
held them (record, state and CRM values as JSON documents the size of a Salesforce opportunity's),
then times the upgrade through the packing migration alone. Prints per database the seconds, rows
per second, and the best possible: the same database's time to read every row's documents once
(the migration must at least read them, then write every row once).

    nice -n 10 .venv/bin/python -m bench.bench_migrate_packed [--records 100000]
        [--databases sqlite,postgres] [--pg-database pgstore_migrate]
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.bench_store import postgres_url
from integration.store.db import alembic_config, upgrade

#: Rows stored per INSERT while seeding.
SEED_BATCH = 5000


def packing_revisions(url: str) -> tuple[str, str]:
    """(the revision before, the revision) of the packing migration."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(url))
    mine = next(r for r in script.walk_revisions() if r.module.__file__.endswith("_packed_documents.py"))
    return mine.down_revision, mine.revision


def documents(n: int) -> dict[str, str]:
    """The three JSON documents of the ``n``-th stored opportunity, as the old schema held them."""
    day = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}"
    record = {"crm": "salesforce", "object": "opportunity", "id": f"006{n:015d}",
              "stage_value": "Negotiation/Review", "created_at": f"{day}T09:00:00+00:00",
              "modified_at": f"{day}T10:00:00+00:00", "stage_object": None, "pipeline": None,
              "name": f"Account {n} - Platform",
              "history": [{"value": v, "entered_at": f"{day}T0{i}:00:00+00:00"}
                          for i, v in enumerate(("Prospecting", "Qualification", "Negotiation/Review"))],
              "stage_entered_at": f"{day}T02:00:00+00:00",
              "fields": {"amount": 1000.0 + n, "industry": "Technology", "employee_count": 120,
                         "job_title": None, "lead_source": "Web", "country": None,
                         "owner_id": f"005{n % 40:015d}", "company": f"Account {n}"},
              "raw": {"Id": f"006{n:015d}", "Name": f"Account {n} - Platform",
                      "StageName": "Negotiation/Review", "Amount": 1000.0 + n, "Type": "New Customer",
                      "LeadSource": "Web", "OwnerId": f"005{n % 40:015d}", "CloseDate": day,
                      "Probability": 80.0, "IsClosed": False, "IsWon": False,
                      "CreatedDate": f"{day}T09:00:00.000+0000", "AccountId": f"001{n:015d}",
                      "Account.Name": f"Account {n}", "Account.Industry": "Technology",
                      "Account.NumberOfEmployees": 120},
              "writeback": {"journey_stage": "decision", "persona": "general",
                            "next_best_action": "Send the contract", "stalled": n % 3 == 0,
                            "stage_entered_at": f"{day}T02:00:00+00:00", "stalls_at": None,
                            "journey_updated_at": None},
              "url": f"https://example.my.salesforce.com/lightning/r/Opportunity/006{n:015d}/view",
              "identity": {"kind": "deal", "email": None, "same_as": []}}
    state = {"crm": "salesforce", "object": "opportunity", "id": record["id"],
             "crm_stage": "Negotiation/Review", "stage": "decision", "stage_label": "Decision",
             "entered_at": f"{day}T02:00:00+00:00", "stalled": n % 3 == 0, "days_over": n % 9,
             "persona": "general", "next_best_action": "Send the contract", "unmapped": False}
    crm_values = {"journey_stage": "decision", "persona": "general", "stalled": n % 3 == 0,
                  "stage_entered_at": {"$datetime": f"{day}T02:00:00+00:00"}}
    return {"record": json.dumps(record), "state": json.dumps(state),
            "crm_values": json.dumps(crm_values)}


def seed(url: str, records: int) -> None:
    """Store ``records`` opportunities of one connection as the schema before packing held them."""
    engine = create_engine(url)
    with engine.begin() as db:
        db.execute(text("INSERT INTO tenant (id, name, created_at) VALUES (1, 't', '2026-11-30')"))
        db.execute(text("INSERT INTO connection (id, tenant_id, name, crm, state, failures, settings, "
                        "secrets, sync_interval_seconds, created_at) VALUES "
                        "(1, 1, 'c', 'salesforce', 'active', 0, '{}', '', 300, '2026-11-30')"))
    insert = text("INSERT INTO recordstate (id, connection_id, object, crm_id, name, stage, stalled, "
                  "days_over, record, state, crm_values, updated_at) VALUES (:id, 1, 'opportunity', "
                  ":crm_id, :name, 'decision', :stalled, 0, :record, :state, :crm_values, '2026-11-30')")
    for start in range(0, records, SEED_BATCH):
        rows = [{"id": n + 1, "crm_id": f"006{n:015d}", "name": f"Account {n} - Platform",
                 "stalled": n % 3 == 0, **documents(n)}
                for n in range(start, min(records, start + SEED_BATCH))]
        with engine.begin() as db:
            db.execute(insert, rows)
    engine.dispose()


def read_once(url: str) -> float:
    """Seconds to read every row's documents once, in id order (the floor of the migration)."""
    engine = create_engine(url)
    started = time.monotonic()
    with engine.connect() as db:
        for _ in db.execution_options(yield_per=5000).execute(
                text("SELECT id, record, state, crm_values FROM recordstate ORDER BY id")):
            pass
    engine.dispose()
    return time.monotonic() - started


def run(database: str, records: int, workdir: Path, pg_database: str) -> dict[str, Any]:
    """Seed ``records`` rows before the packing migration on ``database`` and time the migration."""
    url = postgres_url(pg_database) if database == "postgres" else f"sqlite:///{workdir / 'm.sqlite3'}"
    before, packing = packing_revisions(url)
    upgrade(url, before)
    seed(url, records)
    floor = read_once(url)
    started = time.monotonic()
    upgrade(url, packing)
    seconds = time.monotonic() - started
    return {"database": database, "records": records, "seconds": round(seconds, 1),
            "rows_per_second": round(records / seconds), "read_once_seconds": round(floor, 1),
            "ratio_to_read_once": round(seconds / floor, 1)}


def main(argv: list[str] | None = None) -> None:
    """Time the packing migration on each database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--pg-database", default="journey_bench_migrate",
                        help="the PostgreSQL database to make anew (default %(default)s)")
    args = parser.parse_args(argv)
    print(f"packing migration on {args.records} stored records, "
          f"load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}", flush=True)
    for database in args.databases.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            print(run(database, args.records, Path(tmp), args.pg_database), flush=True)
    print(f"load average after: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")


if __name__ == "__main__":
    main()
