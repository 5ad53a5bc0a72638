"""Journey analytics from timelines: the funnel and time spent in each stage."""
from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any, Iterable

from mapping.model import JourneyMap
from mapping.timeline import TimelineSpan


def funnel(timelines_by_record: Iterable[list[TimelineSpan]], jmap: JourneyMap) -> list[dict[str, Any]]:
    """Per journey stage, in map order: records that reached it and the conversion from the stage before.

    A record reached a stage when its furthest stage is that one or later (a record that skipped a
    stage has still passed it); ``entered`` counts records that had a span in the stage itself.
    Records that never were in a journey stage (only exits or unmapped stages) are not counted.
    ``conversion`` is reached / reached at the previous stage (None for the first stage or after 0).
    """
    furthest_counts = [0] * len(jmap.stage_keys)
    entered = [0] * len(jmap.stage_keys)
    for spans in timelines_by_record:
        positions = {jmap.stage_index(span.stage) for span in spans} - {None}
        for position in positions:
            entered[position] += 1
        if positions:
            furthest_counts[max(positions)] += 1
    rows = []
    reached = sum(furthest_counts)
    previous: int | None = None
    for position, key in enumerate(jmap.stage_keys):
        conversion = reached / previous if previous else None
        rows.append({"stage": key, "label": jmap.label(key), "reached": reached, "entered": entered[position],
                     "conversion": conversion})
        previous = reached
        reached -= furthest_counts[position]
    return rows


def time_in_stage(timelines: Iterable[list[TimelineSpan]], jmap: JourneyMap) -> list[dict[str, Any]]:
    """Per journey stage, in map order: count, median, p25, p75 and p90 days of its spans.

    Completed and current spans both count (a current span's days run to now). Figures are None for
    a stage with no spans.
    """
    days: dict[str, list[int]] = defaultdict(list)
    for spans in timelines:
        for span in spans:
            days[span.stage].append(span.days)
    return [{"stage": key, "label": jmap.label(key), "count": len(days[key]),
             **_percentiles(days[key]), "expected_days": jmap.expected_days(key)}
            for key in jmap.stage_keys]


def _percentiles(values: list[int]) -> dict[str, float | None]:
    if not values:
        return dict.fromkeys(("median", "p25", "p75", "p90"))
    if len(values) == 1:
        return dict.fromkeys(("median", "p25", "p75", "p90"), float(values[0]))
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"median": float(statistics.median(values)), "p25": cuts[24], "p75": cuts[74], "p90": cuts[89]}
