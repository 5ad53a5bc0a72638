"""Funnel counts of runs of stages (what the journey summary hands back) against the funnel rules
worked out from first entry times, on random runs; the moves of a period's entries of paths."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from hypothesis import given, strategies as st

from mapping import default_map
from mapping.journey_runs import add_counts, furthest_stage, path_moves, run_funnel_counts
from tests.store.funnel_reference import count_into_funnels

KEYS = default_map().stage_keys
runs = st.lists(st.tuples(st.lists(st.sampled_from([*KEYS, "lost", "retired_stage"]), max_size=10),
                          st.integers(min_value=1, max_value=5)), max_size=8)


@given(runs)
def test_runs_count_as_their_first_entries_do(runs):
    reached, entered, strict = Counter(), Counter(), Counter()
    start = datetime(2026, 1, 1)
    for run, records in runs:
        firsts = {}
        for position, stage in enumerate(run):
            if stage in KEYS:
                firsts.setdefault(stage, start + timedelta(hours=position))
        for _ in range(records):
            count_into_funnels(firsts, KEYS, reached, entered, strict)
    assert run_funnel_counts(runs, KEYS) == [(reached[k], entered[k], strict[k]) for k in KEYS]


def test_furthest_stage_is_the_latest_in_map_order_whatever_the_order_entered():
    assert furthest_stage([KEYS[2], "lost", KEYS[0]], KEYS) == 2
    assert furthest_stage(["lost", "retired_stage"], KEYS) is None


def test_counts_of_disjoint_records_add_up_stage_by_stage():
    assert add_counts([(3, 2, 1), (1, 1, 0)], [(1, 0, 0), (2, 2, 2)]) == [(4, 2, 1), (3, 3, 2)]


def test_moves_follow_each_entry_of_the_period_to_the_next_of_the_path():
    paths = [(["awareness", "consideration", "lost"], 0, 2, 3),      # both stays moved on
             (["awareness", "decision", "awareness"], 1, 3, 2),      # the last stay goes on
             (["consideration", "decision", "purchase"], 0, 1, 1)]   # left after the period
    assert path_moves(paths) == {("awareness", "consideration"): 3, ("consideration", "lost"): 3,
                                 ("decision", "awareness"): 2, ("awareness", None): 2,
                                 ("consideration", "decision"): 1}
