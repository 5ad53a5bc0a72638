"""A synthetic book of journeys for the analytics benchmark and tests, written straight in SQL.

Each record starts at a random date in the last two years, mostly in the first stage, and walks
the map: on to the next stage, sometimes over one (a skip), sometimes back (a repeat), out through
lost or converted, or it stays where it is. The stay lengths are spread around each stage's
expected days, so some records are stalled. About four stage entries per record.
Rows are inserted in bulk (Core ``INSERT`` of many rows), not through the ORM, and the journey
rollup and summaries are then made from them as the migrations' backfills do.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterator

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from integration.store.models import CrmOwner, JourneyEvent, RecordState
from integration.store import rollups, summaries
from mapping import JourneyMap

COUNTRIES = ("Portugal", "Germany", "France", "United States", "Brazil", "Japan", "India", "Kenya")
LEAD_SOURCES = ("REFERRALS", "ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "EVENT")
PERSONAS = ("enterprise_buyer", "small_buyer", "time_pressed_professional", "general")
OWNERS = 50
#: Rows per INSERT statement.
CHUNK = 5000


@dataclass
class Journey:
    """One synthetic record: its filter fields and its stays as (stage, entered, exited)."""

    object: str
    crm_id: str
    owner_id: str
    persona: str
    country: str
    lead_source: str
    stays: list[tuple[str, datetime, datetime | None]] = field(default_factory=list)


def journeys(jmap: JourneyMap, count: int, now: datetime, seed: int = 7) -> Iterator[Journey]:
    """``count`` deterministic journeys ending before ``now``."""
    rng = random.Random(seed)
    keys = jmap.stage_keys
    for n in range(count):
        journey = Journey(object="deal" if n % 3 else "contact", crm_id=str(10_000_000 + n),
                          owner_id=str(300_000 + rng.randrange(OWNERS)), persona=rng.choice(PERSONAS),
                          country=rng.choice(COUNTRIES), lead_source=rng.choice(LEAD_SOURCES))
        at = now - timedelta(days=rng.uniform(1, 730))
        index = 0 if rng.random() < 0.8 else rng.randrange(1, 3)
        stage = keys[index]
        while True:
            expected = jmap.expected_days(stage) or 60
            leaves = at + timedelta(days=rng.lognormvariate(0, 0.6) * expected * 1.5)
            if leaves >= now or stage in jmap.exit_keys:
                journey.stays.append((stage, at, None))
                break
            nxt = _next(rng, jmap, index)
            journey.stays.append((stage, at, leaves))
            at, stage = leaves, nxt
            if stage in keys:
                index = keys.index(stage)
        yield journey


def _next(rng: random.Random, jmap: JourneyMap, index: int) -> str:
    keys, roll = jmap.stage_keys, rng.random()
    last = len(keys) - 1
    if roll < 0.18:
        return "lost"
    if roll < 0.21 and index == 0:
        return "converted" if "converted" in jmap.exit_keys else "lost"
    if roll < 0.28 and index > 0:
        return keys[index - 1]
    if roll < 0.38 and index + 2 <= last:
        return keys[index + 2]
    return keys[min(index + 1, last)] if index < last else "lost"


def rows(connection_id: int, jmap: JourneyMap, journey: Journey, now: datetime
         ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The RecordState row and the JourneyEvent rows of one journey."""
    stage, entered, _ = journey.stays[-1]
    expected = jmap.expected_days(stage)
    days = int((now - entered) / timedelta(days=1))
    stalled = expected is not None and days > expected
    record = {"connection_id": connection_id, "object": journey.object, "crm_id": journey.crm_id,
              "name": f"Record {journey.crm_id}", "crm_stage": stage, "pipeline": "default",
              "stage": stage, "persona": journey.persona, "owner_id": journey.owner_id,
              "amount": float(int(journey.crm_id) % 97 * 1000), "stalled": stalled,
              "crm": "hubspot", "email": f"r{journey.crm_id}@example.com",
              "company": f"Company {int(journey.crm_id) % 5000}", "country": journey.country,
              "lead_source": journey.lead_source,
              "days_over": days - expected if stalled else 0, "entered_at": entered,
              "record": {"crm": "hubspot", "fields": {"country": journey.country,
                                                      "lead_source": journey.lead_source},
                         "identity": {"email": f"r{journey.crm_id}@example.com"}},
              "state": {}, "crm_values": {}, "modified_at": entered, "updated_at": now}
    events = [{"connection_id": connection_id, "object": journey.object, "crm_id": journey.crm_id,
               "seq": seq, "from_stage": journey.stays[seq - 1][0] if seq else None,
               "to_stage": to_stage, "occurred_at": at, "exited_at": until, "crm_stages": [],
               "next_stage": journey.stays[seq + 1][0] if seq + 1 < len(journey.stays) else None}
              for seq, (to_stage, at, until) in enumerate(journey.stays)]
    return record, events


def seed(engine: Engine, connection_id: int, jmap: JourneyMap, count: int, now: datetime,
         progress: Any = None) -> int:
    """Insert ``count`` synthetic records with their events and the owners' names, and make the
    connection's journey rollup and summaries; returns the number of events written."""
    written = 0
    with engine.begin() as conn:
        conn.execute(insert(CrmOwner), [{"connection_id": connection_id, "owner_id": str(300_000 + i),
                                         "name": f"Owner {i:02d}", "updated_at": now}
                                        for i in range(OWNERS)])
    records: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for n, journey in enumerate(journeys(jmap, count, now), 1):
        record, its_events = rows(connection_id, jmap, journey, now)
        records.append(record)
        events.extend(its_events)
        if len(records) >= CHUNK or n == count:
            with engine.begin() as conn:
                # Core inserts of the tables: many rows a statement, no ORM bookkeeping
                conn.execute(insert(RecordState.__table__), records)
                conn.execute(insert(JourneyEvent.__table__), events)
            written += len(events)
            records, events = [], []
            if progress:
                progress(n)
    with engine.begin() as conn:
        summaries.rebuild(conn, connection_id)
        rollups.rebuild(conn, connection_id)  # its cohorts are counted from the summaries
    return written
