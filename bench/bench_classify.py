"""Classification benchmark: classify synthetic CRM records with histories against the default map.

Run: ``.venv/bin/python bench/bench_classify.py [--records N] [--seed S]``. Prints plain text lines:
records per second for classify() alone and end to end, and the share of time spent outside
classify() (generating the records, iterating over them), by the wall clock and by CPU time.
"""
from __future__ import annotations

import argparse
import os
import random
import time
from datetime import datetime, timedelta, timezone
from typing import Sequence

from mapping import CrmRecord, JourneyMap, StageChange, classify, default_map

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)

# (crm, object, stage_object, pipeline, stage values in journey order); contacts follow opportunities.
KINDS = [
    ("salesforce", "opportunity", None, None,
     ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
      "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"]),
    ("salesforce", "lead", None, None,
     ["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"]),
    ("salesforce", "contact", "opportunity", None, ["Prospecting", "Qualification", "Closed Won"]),
    ("hubspot", "deal", None, "default",
     ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
      "contractsent", "closedwon", "closedlost"]),
    ("hubspot", "contact", None, None,
     ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
      "evangelist"]),
]
KIND_WEIGHTS = [35, 15, 10, 25, 15]
TITLES = ["CTO", "VP Operations", "Engineer", "Head of Sales", "Analyst", None]


def make_record(rng: random.Random, index: int) -> CrmRecord:
    """One synthetic record: a walk through its object's stages, mostly forward, sometimes back."""
    crm, object_, stage_object, pipeline, values = rng.choices(KINDS, KIND_WEIGHTS)[0]
    created = NOW - timedelta(days=rng.uniform(1, 720))
    moment, position = created, 0
    history = [StageChange(values[0], created)]
    for _ in range(rng.randint(0, 7)):
        position = max(0, min(len(values) - 1, position + rng.choice((1, 1, 1, 2, -1))))
        moment += timedelta(days=rng.expovariate(1 / 12))
        if moment >= NOW:
            break
        history.append(StageChange(values[position], moment))
    # One record in a hundred sits in a stage the map does not name (a renamed picklist value).
    current = "Legacy Stage" if rng.random() < 0.01 else history[-1].value
    rng.shuffle(history)  # CRMs do not promise an order
    return CrmRecord(
        crm=crm, object=object_, id=f"{object_[:3]}{index:08d}", stage_value=current, created_at=created,
        modified_at=moment, stage_object=stage_object, pipeline=pipeline, history=tuple(history),
        stage_entered_at=None if rng.random() < 0.5 else moment,
        fields={"amount": rng.choice([None, 5000, 40000, 250000]), "employee_count": rng.randint(1, 20000),
                "job_title": rng.choice(TITLES)},
    )


def make_records(count: int, seed: int) -> list[CrmRecord]:
    """``count`` synthetic records from a seeded generator (the same seed gives the same records)."""
    rng = random.Random(seed)
    return [make_record(rng, index) for index in range(count)]


def run(count: int, seed: int, jmap: JourneyMap) -> dict[str, tuple[float, float]]:
    """Generate, iterate and classify; return (wall, CPU) seconds of each phase and the stalled count."""
    marks = [_clock()]
    records = make_records(count, seed)
    marks.append(_clock())
    for _ in records:
        pass
    marks.append(_clock())
    stalled = sum(classify(record, jmap, NOW).stalled for record in records)
    marks.append(_clock())
    phases = [tuple(b - a for a, b in zip(start, end)) for start, end in zip(marks, marks[1:])]
    return {"generate": phases[0], "iterate": phases[1], "classify": phases[2], "stalled": (stalled, stalled)}


def _clock() -> tuple[float, float]:
    # CPU time next to wall time: on a shared machine other processes stretch only the wall clock.
    return time.perf_counter(), time.process_time()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its figures as plain text lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="number of synthetic records (100000)")
    parser.add_argument("--seed", type=int, default=20261123, help="random seed for the records")
    args = parser.parse_args(argv)
    jmap = default_map()
    timings = run(args.records, args.seed, jmap)
    print(f"records: {args.records} (seed {args.seed}, map '{jmap.name}')")
    # The machine is shared: the load says how far the wall clock is from the CPU clock.
    print("load average (1, 5, 15 min) at start: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"stalled: {timings['stalled'][0]}")
    for clock, which in (("wall", 0), ("cpu", 1)):
        # The classify loop also pays for its own iteration; subtract the measured bare iteration.
        classify_only = max(timings["classify"][which] - timings["iterate"][which], 1e-9)
        total = timings["generate"][which] + timings["classify"][which]
        print(f"{clock} generate seconds: {timings['generate'][which]:.3f}")
        print(f"{clock} classify seconds: {classify_only:.3f}")
        print(f"{clock} classify records/second: {args.records / classify_only:,.0f}")
        print(f"{clock} end-to-end records/second: {args.records / total:,.0f}")
        print(f"{clock} share of time outside classify(): {(total - classify_only) / total:.1%}")


if __name__ == "__main__":
    main()
