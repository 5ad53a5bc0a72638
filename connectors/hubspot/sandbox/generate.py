"""Synthetic portals for volume tests, benchmarks and demos: deals walking the default pipeline."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from .schema import DEFAULT_PIPELINE, LIFECYCLE_STAGES

OPEN_STAGES = [s["id"] for s in DEFAULT_PIPELINE["stages"] if s["metadata"]["isClosed"] == "false"]
SOURCES = ["ORGANIC_SEARCH", "PAID_SEARCH", "REFERRALS", "DIRECT_TRAFFIC", "OFFLINE"]
LIFECYCLE = [o["value"] for o in LIFECYCLE_STAGES][:6]


def _path(rng: random.Random, start: datetime, stages: list[str]) -> list[dict[str, str]]:
    moment = start
    entries = []
    for stage in stages:
        entries.append({"value": stage, "timestamp": moment.isoformat()})
        moment += timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 23))
    return entries


def synthetic_seed(deals: int, contacts: int = 0, *, rng_seed: int = 7,
                   start: datetime = datetime(2025, 1, 1, tzinfo=timezone.utc)) -> dict[str, Any]:
    """A ``hubspot`` seed value with ``deals`` deals and ``contacts`` contacts, reproducible."""
    rng = random.Random(rng_seed)
    deal_list = []
    for n in range(deals):
        created = start + timedelta(minutes=n)
        depth = rng.randint(1, len(OPEN_STAGES))
        path = OPEN_STAGES[:depth]
        if rng.random() < 0.2:
            path = path + [rng.choice(["closedwon", "closedlost"])]
        history = _path(rng, created, path)
        deal_list.append({
            "id": str(20_000_000_001 + n),
            "properties": {"dealname": f"Deal {n}", "amount": str(rng.randint(1, 500) * 1000),
                           "pipeline": "default", "dealstage": path[-1],
                           "createdate": created.isoformat(),
                           "hs_analytics_source": rng.choice(SOURCES),
                           "hubspot_owner_id": str(300_000 + rng.randint(1, 20))},
            "history": {"dealstage": history},
        })
    contact_list = []
    for n in range(contacts):
        created = start + timedelta(minutes=n)
        path = LIFECYCLE[:rng.randint(1, len(LIFECYCLE))]
        contact_list.append({
            "id": str(1001 + n),
            "properties": {"email": f"person{n}@example.com", "firstname": f"Person{n}",
                           "jobtitle": rng.choice(["CTO", "VP Operations", "Engineer", "CFO"]),
                           "lifecyclestage": path[-1], "createdate": created.isoformat()},
            "history": {"lifecyclestage": _path(rng, created, path)},
        })
    return {"deals": deal_list, "contacts": contact_list}
