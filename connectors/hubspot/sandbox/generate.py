"""Synthetic portals for volume tests, benchmarks and demos: deals walking the default pipeline,
contacts walking the lifecycle stages.

:func:`synthetic_seed` gives them as a seed (the ``hubspot`` value of a seed file);
:func:`populate` loads the same records straight into a running portal, without the seed's
dictionaries and validation, so a million-contact portal loads in about a minute and a couple
of GB (the seed form takes several times that).
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, NamedTuple

from .schema import CONTACTS, DEALS, DEFAULT_PIPELINE, LIFECYCLE_STAGES
from .store import HistoryEntry, Portal
from .wire import iso_ms

OPEN_STAGES = [s["id"] for s in DEFAULT_PIPELINE["stages"] if s["metadata"]["isClosed"] == "false"]
SOURCES = ["ORGANIC_SEARCH", "PAID_SEARCH", "REFERRALS", "DIRECT_TRAFFIC", "OFFLINE"]
LIFECYCLE = [o["value"] for o in LIFECYCLE_STAGES][:6]
JOB_TITLES = ["CTO", "VP Operations", "Engineer", "CFO"]
START = datetime(2025, 1, 1, tzinfo=timezone.utc)


class Synthetic(NamedTuple):
    """One generated record: its kind (``deals``/``contacts``), id, property values (text) and
    its stage property's history as (stage, when) pairs, oldest first."""

    kind: str
    id: str
    properties: dict[str, str]
    stage_property: str
    path: list[tuple[str, datetime]]


def _path(rng: random.Random, start: datetime, stages: list[str]) -> list[tuple[str, datetime]]:
    moment = start
    entries = []
    for stage in stages:
        entries.append((stage, moment))
        moment += timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 23))
    return entries


def generate(deals: int, contacts: int = 0, *, rng_seed: int = 7,
             start: datetime = START) -> Iterator[Synthetic]:
    """``deals`` deals then ``contacts`` contacts, the same for the same arguments."""
    rng = random.Random(rng_seed)
    for n in range(deals):
        created = start + timedelta(minutes=n)
        depth = rng.randint(1, len(OPEN_STAGES))
        path = OPEN_STAGES[:depth]
        if rng.random() < 0.2:
            path = path + [rng.choice(["closedwon", "closedlost"])]
        history = _path(rng, created, path)
        yield Synthetic("deals", str(20_000_000_001 + n), {
            "dealname": f"Deal {n}", "amount": str(rng.randint(1, 500) * 1000),
            "pipeline": "default", "dealstage": path[-1], "createdate": iso_ms(created),
            "hs_analytics_source": rng.choice(SOURCES),
            "hubspot_owner_id": str(300_000 + rng.randint(1, 20))}, DEALS.stage_property, history)
    for n in range(contacts):
        created = start + timedelta(minutes=n)
        path = LIFECYCLE[:rng.randint(1, len(LIFECYCLE))]
        yield Synthetic("contacts", str(1001 + n), {
            "email": f"person{n}@example.com", "firstname": f"Person{n}",
            "jobtitle": rng.choice(JOB_TITLES), "lifecyclestage": path[-1],
            "createdate": iso_ms(created)}, CONTACTS.stage_property, _path(rng, created, path))


def synthetic_seed(deals: int, contacts: int = 0, *, rng_seed: int = 7,
                   start: datetime = START) -> dict[str, Any]:
    """A ``hubspot`` seed value with ``deals`` deals and ``contacts`` contacts, reproducible."""
    seed: dict[str, Any] = {"deals": [], "contacts": []}
    for record in generate(deals, contacts, rng_seed=rng_seed, start=start):
        seed[record.kind].append({
            "id": record.id, "properties": dict(record.properties),
            "history": {record.stage_property: [{"value": stage, "timestamp": when.isoformat()}
                                                for stage, when in record.path]}})
    return seed


def populate(portal: Portal, deals: int = 0, contacts: int = 0, *, rng_seed: int = 7,
             start: datetime = START) -> None:
    """Load the records :func:`synthetic_seed` would seed into ``portal``, served exactly as if
    seeded; their ids must be new to the portal."""
    with portal.lock:
        for record in generate(deals, contacts, rng_seed=rng_seed, start=start):
            store = portal.stores[record.kind]
            if record.id in store.records:
                raise ValueError(f"{record.kind} {record.id} is already in the portal")
            history = [HistoryEntry(stage, when, "CRM_UI") for stage, when in record.path]
            portal.load_record(store, record.id, record.properties, {record.stage_property: history})
        portal.owners.refer(r.values["hubspot_owner_id"] for r in portal.stores["deals"].records.values()
                            if r.values.get("hubspot_owner_id", "").isdigit())
