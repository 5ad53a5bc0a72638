"""Analytics rows shaped from aggregates: funnel conversions, outcomes, skips and repeats, trends,
cohorts, and stage KPIs against the map's targets."""
from __future__ import annotations

import statistics
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapping import parse_map
from mapping.analytics import (cohort_rows, funnel_rows, journey_rows, kpi_rows, outcome_rows, percentiles,
                               stage_days_rows, trend_rows)
from tests.mapping.helpers import SMALL_MAP_YAML, small_map

TARGETS_MAP = parse_map(SMALL_MAP_YAML.replace(
    "{key: awareness, label: Awareness, expected_days: 10}",
    "{key: awareness, label: Awareness, expected_days: 10, owner: Marketing, "
    "targets: {conversion: 50, median_days: 8}}").replace(
    "{key: consideration, label: Consideration, expected_days: 20}",
    "{key: consideration, label: Consideration, expected_days: 20, targets: {conversion: 40}}"))


def test_funnel_conversions_per_type():
    rows = funnel_rows([(10, 8, 8), (6, 5, 4), (0, 0, 0)], small_map())
    assert [r["stage"] for r in rows] == ["awareness", "consideration", "decision"]
    assert rows[0]["conversion"] is None and rows[0]["strict_conversion"] is None
    assert rows[1]["conversion"] == pytest.approx(0.6)
    assert rows[1]["entered_conversion"] == pytest.approx(5 / 8)
    assert rows[1]["strict_conversion"] == pytest.approx(0.5)
    assert rows[2]["conversion"] == 0.0
    assert funnel_rows([(0, 0, 0), (0, 0, 0), (0, 0, 0)], small_map())[1]["conversion"] is None


@given(st.lists(st.integers(min_value=0, max_value=400), min_size=2, max_size=300))
def test_percentiles_of_a_histogram_are_those_of_its_values(days):
    cuts = statistics.quantiles(days, n=100, method="inclusive")
    found = percentiles({**Counter(days), 999: 0})  # a value counted no times is no value
    assert found["median"] == pytest.approx(statistics.median(days))
    assert (found["p25"], found["p75"], found["p90"]) == pytest.approx((cuts[24], cuts[74], cuts[89]))


def test_percentiles_of_one_value_and_of_none():
    assert percentiles({7: 1}) == {"p25": 7, "median": 7, "p75": 7, "p90": 7}
    assert percentiles({3: 0}, {"median": 0.5}) == {"median": None}


def test_stage_days_rows_fill_stages_without_stays():
    rows = stage_days_rows({"consideration": {"count": 3, "median": 4.333333, "p25": 2, "p75": 6,
                                              "p90": 7}}, small_map())
    assert rows[0] == {"stage": "awareness", "label": "Awareness", "count": 0, "median": None,
                       "p25": None, "p75": None, "p90": None, "expected_days": 10}
    assert (rows[1]["count"], rows[1]["median"], rows[1]["expected_days"]) == (3, 4.33, 20)


MOVES = {("awareness", "consideration"): 5, ("awareness", "decision"): 2, ("awareness", "lost"): 3,
         ("awareness", None): 4, ("consideration", "awareness"): 1, ("decision", "consideration"): 2,
         ("decision", "nurture"): 1, ("lost", None): 3}


def test_outcomes_name_how_each_stay_ended():
    rows = {r["stage"]: r for r in outcome_rows(MOVES, small_map())}
    assert rows["awareness"] == {"stage": "awareness", "label": "Awareness", "stays": 14,
                                 "moved_on": 7, "moved_back": 0, "still_there": 4, "other": 0,
                                 "exits": {"lost": 3}}
    assert (rows["decision"]["moved_back"], rows["decision"]["other"]) == (2, 1)
    assert rows["consideration"]["moved_back"] == 1


def test_journeys_count_skips_repeats_and_paths():
    report = journey_rows(MOVES, [(["awareness", "consideration"], 9), (["decision", "lost"], 2)],
                          small_map())
    assert {r["stage"]: r["moves"] for r in report["skipped"]} == {
        "awareness": 0, "consideration": 2, "decision": 0}
    assert {r["stage"]: r["moves"] for r in report["repeated"]} == {
        "awareness": 1, "consideration": 2, "decision": 0}
    assert report["backward_moves"] == [{"from": "decision", "to": "consideration", "moves": 2},
                                        {"from": "consideration", "to": "awareness", "moves": 1}]
    assert report["paths"][1] == {"stages": ["decision", "lost"], "labels": ["Decision", "Lost"],
                                  "records": 2}


def test_trends_group_points_by_stage():
    report = trend_rows([("2026-01-01", "awareness", 4, 1, 3.5), ("2026-02-01", "awareness", 2, 2, None),
                         ("2026-02-01", "decision", 1, 0, 9.0), ("2026-02-01", "gone", 1, 0, 1.0)],
                        small_map(), "month")
    assert report["buckets"] == ["2026-01-01", "2026-02-01"]
    awareness = report["stages"][0]["points"]
    assert [(p["conversion"], p["median"]) for p in awareness] == [(0.25, 3.5), (1.0, None)]
    assert report["stages"][1]["points"] == []


def test_cohorts_count_records_reaching_each_stage():
    rows = cohort_rows([("2026-03-01", 0, 4), ("2026-03-01", 2, 1), ("2026-01-01", 1, 2)], small_map())
    assert [r["cohort"] for r in rows] == ["2026-01-01", "2026-03-01"]
    assert [s["records"] for s in rows[1]["reached"]] == [5, 1, 1]
    assert rows[1]["reached"][1]["share"] == pytest.approx(0.2)
    assert [s["records"] for s in rows[0]["reached"]] == [2, 2, 0]


def test_kpis_compare_actuals_with_targets():
    funnel = funnel_rows([(10, 10, 10), (4, 4, 4), (2, 2, 2)], TARGETS_MAP)
    days = stage_days_rows({"awareness": {"count": 5, "median": 9}, "consideration": {"count": 2, "median": 3}},
                           TARGETS_MAP)
    rows = kpi_rows(funnel, days, TARGETS_MAP)
    awareness, consideration, decision = rows
    assert awareness["owner"] == "Marketing"
    # 4 of 10 went on: under the 50 % target; 9 median days: over the 8 days target
    assert (awareness["conversion"], awareness["conversion_missed"]) == (0.4, True)
    assert (awareness["median_days"], awareness["median_days_missed"]) == (9.0, True)
    # 2 of 4 went on: 50 % meets 40 %; no days target
    assert (consideration["conversion_missed"], consideration["median_days_missed"]) == (False, None)
    assert (decision["conversion"], decision["conversion_target"], decision["conversion_missed"]) == (
        None, None, None)
