"""Journey analytics shaped from aggregates: funnel types, time in stage, outcomes, journeys,
trends, cohorts and stage KPIs against the map's targets.

The database counts (``integration/journey_stats.py``); these pure functions name the figures,
put stages in map order and derive ratios, so each definition is written down once, here.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from itertools import accumulate
from typing import Any, Iterable, Mapping, Sequence

from mapping.model import JourneyMap

#: The percentiles of days in a stage the analytics report, by name.
PERCENTILES = {"p25": 0.25, "median": 0.5, "p75": 0.75, "p90": 0.9}

#: How a stay ended, by outcome name (besides the map's exits).
MOVED_ON, MOVED_BACK, STILL_THERE, OTHER = "moved_on", "moved_back", "still_there", "other"


#: The funnel types, by query value: (count field, conversion field, what the count means).
FUNNEL_TYPES = {
    "reached": ("reached", "conversion", "Records whose furthest stage entered in the period is this "
                "one or a later one (a record that skipped a stage has still passed it)."),
    "any": ("entered", "entered_conversion", "Records that entered this stage in the period, in any "
            "order (HubSpot's \"contacts or deals that have gone through any stages\")."),
    "strict": ("strict", "strict_conversion", "Records that entered the first stage and every stage "
               "up to this one in order, all in the period (HubSpot's \"have gone through all "
               "stages\"): a record that skipped a stage stops counting before the skip."),
}


def funnel_of_type(rows: Sequence[Mapping[str, Any]], kind: str) -> list[dict[str, Any]]:
    """Funnel rows (:func:`funnel_rows`) with the count and conversion of type ``kind`` (see
    :data:`FUNNEL_TYPES`) also as ``count`` and ``count_conversion``."""
    count, ratio, _ = FUNNEL_TYPES[kind]
    return [{**row, "count": row[count], "count_conversion": row[ratio]} for row in rows]


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def funnel_rows(counts: Sequence[tuple[int, int, int]], jmap: JourneyMap) -> list[dict[str, Any]]:
    """Per journey stage, in map order, from ``(reached, entered, strict)`` counts of records:

    - ``reached``: records whose furthest stage entered in the period is this one or later (a record
      that skipped this stage has still passed it);
    - ``entered``: records that entered this stage in the period, whatever the order (HubSpot's
      "contacts or deals that have gone through any stages");
    - ``strict``: records that entered the first stage and every stage up to this one, each at or
      after the one before, in the period (HubSpot's "have gone through all stages": a record that
      skipped a stage is counted up to the stage before the skip).

    Each count has its conversion from the previous stage (None for the first stage or after 0).
    """
    rows = []
    previous: tuple[int, int, int] | None = None
    for key, (reached, entered, strict) in zip(jmap.stage_keys, counts):
        rows.append({"stage": key, "label": jmap.label(key), "reached": reached, "entered": entered,
                     "strict": strict,
                     "conversion": _ratio(reached, previous[0]) if previous else None,
                     "entered_conversion": _ratio(entered, previous[1]) if previous else None,
                     "strict_conversion": _ratio(strict, previous[2]) if previous else None})
        previous = (reached, entered, strict)
    return rows


def percentiles(counts: Mapping[int, int], wanted: Mapping[str, float] = PERCENTILES
                ) -> dict[str, float | None]:
    """Each wanted percentile (name -> share) of values given as a histogram (value -> how many
    times it occurs), interpolated linearly between the two nearest ranks (PostgreSQL's
    ``percentile_cont``, Python's ``statistics.quantiles(method="inclusive")``); None without
    values. The histogram, not the values, keeps this as cheap for a million stays as for ten."""
    values = sorted(value for value, n in counts.items() if n)
    upto = list(accumulate(counts[value] for value in values))  # rows up to and including each
    if not upto:
        return dict.fromkeys(wanted)

    def at(rank: int) -> int:
        return values[bisect_right(upto, rank)]

    found: dict[str, float | None] = {}
    for name, share in wanted.items():
        exact = (upto[-1] - 1) * share
        low = int(exact)
        fraction = exact - low
        below = at(low)
        found[name] = below + (at(low + 1) - below) * fraction if fraction else float(below)
    return found


def stage_days_rows(found: Mapping[str, Mapping[str, Any]], jmap: JourneyMap) -> list[dict[str, Any]]:
    """Per journey stage, in map order: count and percentiles of days (None without stays)
    and the expected days."""
    rows = []
    for key in jmap.stage_keys:
        figures = found.get(key, {})
        rows.append({"stage": key, "label": jmap.label(key), "count": figures.get("count", 0),
                     **{name: _days(figures.get(name)) for name in ("median", "p25", "p75", "p90")},
                     "expected_days": jmap.expected_days(key)})
    return rows


def _days(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def outcome_rows(moves: Mapping[tuple[str, str | None], int], jmap: JourneyMap) -> list[dict[str, Any]]:
    """Per journey stage: the stays begun in the period and how each ended: moved on to a later
    stage, moved back to an earlier one, left through each exit (lost, converted...), still there,
    or other (into a stage the map no longer names)."""
    rows = []
    for key in jmap.stage_keys:
        ends = Counter({exit_.key: 0 for exit_ in jmap.exits})
        for (stage, following), n in moves.items():
            if stage == key:
                ends[_outcome(key, following, jmap)] += n
        rows.append({"stage": key, "label": jmap.label(key), "stays": sum(ends.values()),
                     **{name: ends[name] for name in (MOVED_ON, MOVED_BACK, STILL_THERE, OTHER)},
                     "exits": {exit_.key: ends[exit_.key] for exit_ in jmap.exits}})
    return rows


def _outcome(stage: str, following: str | None, jmap: JourneyMap) -> str:
    if following is None:
        return STILL_THERE
    if following in jmap.exit_keys:
        return following
    here, there = jmap.stage_index(stage), jmap.stage_index(following)
    if there is None or here is None:
        return OTHER
    return MOVED_ON if there > here else MOVED_BACK


def journey_rows(moves: Mapping[tuple[str, str | None], int],
                 paths: Iterable[tuple[Sequence[str], int]], jmap: JourneyMap) -> dict[str, Any]:
    """Where journeys leave the map's order, from the moves of stays begun in the period:

    - ``skipped``: per stage, the forward moves that jumped over it (from an earlier stage straight
      to a later one);
    - ``repeated``: per stage, the backward moves into it (a record going back to a stage before
      the one it was in), and ``backward_moves`` by (from, to);
    - ``paths``: the most common sequences of stages entered, with their record counts.
    """
    skipped = Counter({key: 0 for key in jmap.stage_keys})
    repeated = Counter({key: 0 for key in jmap.stage_keys})
    backward = []
    for (stage, following), n in moves.items():
        here, there = jmap.stage_index(stage), jmap.stage_index(following) if following else None
        if here is None or there is None:
            continue
        for jumped in jmap.stage_keys[here + 1:there]:
            skipped[jumped] += n
        if there < here:
            repeated[following] += n
            backward.append({"from": stage, "to": following, "moves": n})
    return {
        "skipped": [{"stage": k, "label": jmap.label(k), "moves": skipped[k]} for k in jmap.stage_keys],
        "repeated": [{"stage": k, "label": jmap.label(k), "moves": repeated[k]} for k in jmap.stage_keys],
        "backward_moves": sorted(backward, key=lambda m: (-m["moves"], m["from"], m["to"])),
        "paths": [{"stages": list(stages), "labels": [_label(jmap, s) for s in stages], "records": n}
                  for stages, n in paths]}


def _label(jmap: JourneyMap, key: str) -> str:
    return jmap.label(key) if key in jmap.stage_keys or key in jmap.exit_keys else key


def trend_rows(points: Iterable[tuple[str, str, int, int, float | None]], jmap: JourneyMap,
               unit: str) -> dict[str, Any]:
    """Per stage, one point per ``unit`` (week or month the stays began): stays begun, the share
    of them that has moved on to a later stage so far (``conversion``) and their median days.

    Recent points are still maturing: stays that have not ended yet count as not moved on."""
    by_stage: dict[str, list[dict[str, Any]]] = {key: [] for key in jmap.stage_keys}
    buckets = []
    for bucket, stage, stays, moved_on, median in points:
        if stage not in by_stage:
            continue
        if bucket not in buckets:
            buckets.append(bucket)
        by_stage[stage].append({"bucket": bucket, "stays": stays, "moved_on": moved_on,
                                "conversion": _ratio(moved_on, stays), "median": _days(median)})
    return {"unit": unit, "buckets": sorted(buckets),
            "stages": [{"stage": k, "label": jmap.label(k), "points": by_stage[k]}
                       for k in jmap.stage_keys]}


def cohort_rows(counts: Iterable[tuple[str, int, int]], jmap: JourneyMap) -> list[dict[str, Any]]:
    """Per month of entering the first journey stage: the records, and how many reached each stage
    (their furthest stage is it or a later one), from (month, furthest stage index, records)."""
    furthest: dict[str, Counter] = {}
    for month, index, n in counts:
        furthest.setdefault(month, Counter())[index] += n
    rows = []
    for month in sorted(furthest):
        reached, total = [], sum(furthest[month].values())
        remaining = total
        for index, key in enumerate(jmap.stage_keys):
            reached.append({"stage": key, "records": remaining, "share": _ratio(remaining, total)})
            remaining -= furthest[month][index]
        rows.append({"cohort": month, "records": total, "reached": reached})
    return rows


def kpi_rows(funnel: Sequence[Mapping[str, Any]], days: Sequence[Mapping[str, Any]],
             jmap: JourneyMap) -> list[dict[str, Any]]:
    """Per stage: its owner and goal, and the actual conversion to the next stage (the funnel's
    ``reached`` next / ``reached`` here) and median days against the map's targets; ``missed`` is
    True when an actual figure falls short of its target, None without a target or a figure."""
    medians = {row["stage"]: row["median"] for row in days}
    rows = []
    for i, stage in enumerate(jmap.stages):
        nxt = funnel[i + 1]["conversion"] if i + 1 < len(funnel) else None
        targets = stage.targets
        conversion_target = targets.conversion if targets else None
        days_target = targets.median_days if targets else None
        median = medians.get(stage.key)
        rows.append({
            "stage": stage.key, "label": stage.label, "owner": stage.owner, "goal": stage.goal,
            "conversion": nxt, "conversion_target": conversion_target,
            "conversion_missed": _missed(nxt * 100 if nxt is not None else None, conversion_target,
                                         higher_is_better=True),
            "median_days": median, "median_days_target": days_target,
            "median_days_missed": _missed(median, days_target, higher_is_better=False)})
    return rows


def _missed(actual: float | None, target: float | None, *, higher_is_better: bool) -> bool | None:
    if actual is None or target is None:
        return None
    return actual < target if higher_is_better else actual > target
