"""Benchmark: a full pull and a full write-back of 10,000 deals against the HubSpot sandbox with
50 ms added to every API call, at HubSpot's real limits (110 requests per rolling 10 s, search 5/s).

Prints records per second, API calls against the least the API allows (ceil(N/200) search pages
when stage dates come with the page, ceil(N/100) batch updates), and elapsed time against the floor
the rate limits set. A second pull on a lower-tier portal (no ``hs_v2_date_*``) shows the cost of
reading stage history in batches of 50.

    .venv/bin/python -m bench.bench_hubspot [--records 10000] [--latency-ms 50] [--skip-lower-tier]
"""
from __future__ import annotations

import argparse
import json
import math
import time
from datetime import datetime, timezone
from typing import Any

from connectors.base import FieldUpdate
from connectors.hubspot import HubSpotConnector, RateBudget
from connectors.hubspot.sandbox import HubSpotSandbox
from connectors.hubspot.sandbox.generate import synthetic_seed

RATE_LIMIT = 110
RATE_WINDOW = 10.0
SEARCH_PER_SECOND = 5


def rate_floor(calls: int, searches: int = 0) -> float:
    """Least seconds ``calls`` requests (``searches`` of them search) can take under the limits:
    each full window of 110 requests after the first, and each second of 5 searches after the first."""
    general = max(0, math.ceil(calls / RATE_LIMIT) - 1) * RATE_WINDOW
    search = max(0, math.ceil(searches / SEARCH_PER_SECOND) - 1) * 1.0
    return max(general, search)


def _pull(sandbox: HubSpotSandbox, budget: RateBudget, n: int) -> tuple[dict[str, Any], list[Any]]:
    reader = HubSpotConnector({"base_url": sandbox.base_url,
                               "access_token": sandbox.info()["private_app_token"]}, rate_budget=budget)
    started = time.perf_counter()
    records = [r for r in reader.pull() if r.object == "deal"]
    seconds = time.perf_counter() - started
    routes = reader.usage.by_route
    searches = sum(v for k, v in routes.items() if k.endswith("/search"))
    return {"seconds": round(seconds, 2), "records_per_second": round(len(records) / seconds),
            "api_calls": reader.usage.calls, "minimum_calls": math.ceil(n / 200),
            "rate_limit_floor_seconds": rate_floor(reader.usage.calls, searches),
            "latency_floor_seconds": round(reader.usage.calls * sandbox.latency_ms / 1000, 2),
            "calls_by_route": routes}, records


def run(n: int, latency_ms: float, lower_tier: bool = True) -> dict[str, Any]:
    """Provision, then time a full pull and a full write-back (and a lower-tier pull)."""
    seed = synthetic_seed(n)
    figures: dict[str, Any] = {"records": n, "latency_ms": latency_ms}
    with HubSpotSandbox(seed) as sandbox:
        budget = RateBudget(RATE_LIMIT, RATE_WINDOW, search_per_second=SEARCH_PER_SECOND)
        settings = {"base_url": sandbox.base_url, "access_token": sandbox.info()["private_app_token"]}
        HubSpotConnector(settings, rate_budget=budget).provision()
        time.sleep(RATE_WINDOW)  # start the measured work with an empty window
        sandbox.latency_ms = latency_ms
        figures["pull"], records = _pull(sandbox, budget, n)
        time.sleep(RATE_WINDOW)
        writer = HubSpotConnector(settings, rate_budget=budget)
        now = datetime.now(timezone.utc)
        updates = [FieldUpdate("deal", r.id, {"journey_stage": "consideration", "persona": "champion",
                                              "next_best_action": "Book a demo", "stalled": False,
                                              "stage_entered_at": r.stage_entered_at,
                                              "journey_updated_at": now}) for r in records]
        started = time.perf_counter()
        results = writer.push(updates)
        seconds = time.perf_counter() - started
        figures["push"] = {
            "seconds": round(seconds, 2), "records_per_second": round(len(results) / seconds),
            "api_calls": writer.usage.calls, "minimum_calls": math.ceil(n / 100),
            "rate_limit_floor_seconds": rate_floor(writer.usage.calls),
            "latency_floor_seconds": round(writer.usage.calls * latency_ms / 1000, 2),
            "succeeded": sum(r.ok for r in results)}
        figures["push_retried_after_429"] = writer.usage.calls > math.ceil(n / 100)
    if lower_tier:
        with HubSpotSandbox(seed, stage_dates=False, latency_ms=latency_ms) as sandbox:
            budget = RateBudget(RATE_LIMIT, RATE_WINDOW, search_per_second=SEARCH_PER_SECOND)
            figures["pull_lower_tier"], _ = _pull(sandbox, budget, n)
            figures["pull_lower_tier"]["minimum_calls"] = math.ceil(n / 200) + math.ceil(n / 50)
    return figures


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark with command-line ``argv``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--skip-lower-tier", action="store_true")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.records, args.latency_ms, not args.skip_lower_tier), indent=2))


if __name__ == "__main__":
    main()
