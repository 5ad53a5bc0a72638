"""Benchmark: a full pull and a full write-back of 10,000 opportunities against the Salesforce
sandbox with 50 ms added to every API call.

Prints records per second and API calls made against the floor the API allows. One composite
request is one call toward the limits and carries five query operations or sObject Collections:
reads take ceil(pages / 5) calls, writes ceil(N/1000) (five collections of 200); the
``*_one_per_call`` figures are the earlier floors (one page or one collection of 200 a call). Child
rows (stage history) count toward a query page's 2,000 rows, so the read floor with history counts
ceil((N + history rows) / 2000) pages; both are shown.

    .venv/bin/python bench/bench_salesforce.py [--records 10000] [--latency-ms 50]
"""
from __future__ import annotations

import argparse
import json
import math
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from connectors.base import FieldUpdate
from connectors.salesforce import SPEC, SalesforceConnector
from connectors.salesforce.composite import COLLECTION, PAGES_PER_CALL, RECORDS_PER_CALL
from connectors.salesforce.sandbox import SalesforceSandbox

STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review")


def seed(n: int) -> dict[str, Any]:
    """``n`` opportunities over 100 accounts, each with two or three history rows."""
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    accounts = [{"Id": f"0015g0000{i:06d}AAA", "Name": f"Account {i}", "Industry": "Technology",
                 "NumberOfEmployees": 10 * i} for i in range(100)]
    opportunities = []
    for i in range(n):
        steps = 2 + i % 2
        created = start + timedelta(minutes=i)
        history = [{"StageName": STAGES[s], "CreatedDate": (created + timedelta(days=7 * s)).isoformat()}
                   for s in range(steps)]
        opportunities.append({"Name": f"Deal {i}", "AccountId": accounts[i % 100]["Id"], "Amount": 1000 + i,
                              "StageName": STAGES[steps - 1], "CloseDate": "2027-06-30",
                              "CreatedDate": created.isoformat(), "history": history})
    return {"accounts": accounts, "opportunities": opportunities}


def run(n: int, latency_ms: float) -> dict[str, Any]:
    """Provision, then time a full pull and a full write-back; returns the figures."""
    with SalesforceSandbox(seed(n), daily_quota=1_000_000) as sandbox:
        info = sandbox.info()
        settings = {s.name: info[s.name] for s in SPEC.settings if s.name in info}
        SalesforceConnector(settings).provision()
        sandbox.faults.latency_ms = latency_ms
        reader = SalesforceConnector(settings)
        started = time.perf_counter()
        records = [r for r in reader.pull() if r.object == "opportunity"]
        pull_seconds = time.perf_counter() - started
        history_rows = sum(len(r.history) for r in records)
        query_calls = sum(v for k, v in reader.usage.by_route.items()
                          if k.startswith(("GET query", "POST composite query")))
        writer = SalesforceConnector(settings)
        now = datetime.now(timezone.utc)
        updates = [FieldUpdate("opportunity", r.id, {"journey_stage": "consideration", "persona": "enterprise_buyer",
                                                     "next_best_action": "Book a demo", "stalled": False,
                                                     "stage_entered_at": r.stage_entered_at, "journey_updated_at": now})
                   for r in records]
        started = time.perf_counter()
        results = writer.push(updates)
        push_seconds = time.perf_counter() - started
    return {
        "records": len(records), "latency_ms": latency_ms,
        "pull": {"seconds": round(pull_seconds, 2), "records_per_second": round(len(records) / pull_seconds),
                 "api_calls": reader.usage.calls, "query_calls": query_calls,
                 "floor_records_only": math.ceil(math.ceil(n / 2000) / PAGES_PER_CALL),
                 "floor_with_history_rows": math.ceil(math.ceil((n + history_rows) / 2000) / PAGES_PER_CALL),
                 "floor_records_only_one_per_call": math.ceil(n / 2000),
                 "floor_with_history_rows_one_per_call": math.ceil((n + history_rows) / 2000),
                 "calls_by_route": reader.usage.by_route},
        "push": {"seconds": round(push_seconds, 2), "records_per_second": round(len(results) / push_seconds),
                 "api_calls": writer.usage.calls, "floor": math.ceil(n / RECORDS_PER_CALL),
                 "floor_one_per_call": math.ceil(n / COLLECTION),
                 "succeeded": sum(r.ok for r in results),
                 # 10,000 updates are one Bulk API 2.0 ingest job's worth: the floors are for REST
                 "calls_by_route": writer.usage.by_route},
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark with command-line ``argv`` (``--records``, ``--latency-ms``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.records, args.latency_ms), indent=2))


if __name__ == "__main__":
    main()
