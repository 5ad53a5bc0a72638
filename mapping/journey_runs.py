"""The funnel, cohort and move figures of journeys given as runs: the stages a record entered in
a period, in the order it entered them, each entry strictly after the one before.

The database hands back distinct runs with how many records took each (the journey summary,
``integration/store/summaries.py``), so this counts per run, not per record. The rules are those
of :func:`mapping.analytics.funnel_rows`; ordered entries let first positions stand for first times.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence


def first_positions(run: Sequence[str], keys: Sequence[str]) -> dict[int, int]:
    """Where the run first entered each stage of ``keys``, by the stage's index in ``keys``."""
    index = {key: i for i, key in enumerate(keys)}
    firsts: dict[int, int] = {}
    for position, stage in enumerate(run):
        if stage in index:
            firsts.setdefault(index[stage], position)
    return firsts


def run_funnel_counts(runs: Iterable[tuple[Sequence[str], int]],
                      keys: Sequence[str]) -> list[tuple[int, int, int]]:
    """Per stage of ``keys``, the (reached, entered, strict) counts of the records taking each
    run: reached up to the furthest stage entered, entered each stage entered, and strict up to
    the first stage not entered, or first entered before the stage ahead of it."""
    reached, entered, strict = ([0] * len(keys) for _ in range(3))
    for run, records in runs:
        firsts = first_positions(run, keys)
        if not firsts:
            continue
        for i in range(max(firsts) + 1):
            reached[i] += records
        for i in firsts:
            entered[i] += records
        for i in range(len(keys)):
            if i not in firsts or (i and firsts[i] < firsts[i - 1]):
                break
            strict[i] += records
    return list(zip(reached, entered, strict))


def furthest_stage(run: Sequence[str], keys: Sequence[str]) -> int | None:
    """The index in ``keys`` of the furthest stage the run entered, None if it entered none."""
    return max(first_positions(run, keys), default=None)


def add_counts(*funnels: Sequence[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Funnel counts of disjoint sets of records added stage by stage."""
    return [tuple(map(sum, zip(*stage))) for stage in zip(*funnels)]


def path_moves(paths: Iterable[tuple[Sequence[str], int, int, int]]) -> Counter:
    """The stays begun in a period counted by (stage, the stage entered next, None while the
    record is still in it), of records given as (path, start, end, records): ``records`` records
    took the whole ``path``, and entered ``path[start:end]`` in the period."""
    moves: Counter = Counter()
    for path, start, end, records in paths:
        for i in range(start, end):
            moves[(path[i], path[i + 1] if i + 1 < len(path) else None)] += records
    return moves
