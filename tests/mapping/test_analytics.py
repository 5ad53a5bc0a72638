"""Funnel and time-in-stage figures from timelines."""
from __future__ import annotations

import pytest

from mapping import funnel, time_in_stage, timeline
from tests.mapping.helpers import NOW, opportunity, small_map


def timelines():
    jmap = small_map()
    records = [
        opportunity("Prospecting", ("Prospecting", 4)),
        opportunity("Qualification", ("Prospecting", 30), ("Qualification", 10)),
        opportunity("Proposal", ("Qualification", 50), ("Proposal", 20)),              # skipped awareness
        opportunity("Closed Lost", ("Prospecting", 60), ("Closed Lost", 40)),
        opportunity("Qualification", ("Prospecting", 90), ("Proposal", 70), ("Qualification", 30)),  # went back
    ]
    return [timeline(record, jmap, NOW) for record in records]


def test_funnel_counts_records_that_reached_each_stage_or_beyond():
    rows = funnel(timelines(), small_map())
    assert [(r["stage"], r["reached"], r["entered"]) for r in rows] == [
        ("awareness", 5, 4), ("consideration", 3, 3), ("decision", 2, 2)]
    assert rows[0]["conversion"] is None
    assert rows[1]["conversion"] == pytest.approx(3 / 5)
    assert rows[2]["conversion"] == pytest.approx(2 / 3)
    assert rows[2]["label"] == "Decision"


def test_funnel_of_nothing():
    rows = funnel([], small_map())
    assert [(r["reached"], r["conversion"]) for r in rows] == [(0, None), (0, None), (0, None)]


def test_time_in_stage_uses_completed_and_current_spans():
    rows = {row["stage"]: row for row in time_in_stage(timelines(), small_map())}
    awareness = rows["awareness"]
    # awareness spans: 4 (current), 20, 20, 20 days
    assert (awareness["count"], awareness["median"], awareness["expected_days"]) == (4, 20.0, 10)
    assert awareness["p25"] == pytest.approx(16.0)
    assert awareness["p90"] == pytest.approx(20.0)
    consideration = rows["consideration"]
    # consideration spans: 10 (current), 30 (completed), 30 (current)
    assert (consideration["count"], consideration["median"], consideration["p75"]) == (3, 30.0, 30.0)
    assert rows["decision"]["count"] == 2


def test_time_in_stage_with_one_span_and_with_none():
    rows = time_in_stage([timeline(opportunity("Prospecting", ("Prospecting", 7)), small_map(), NOW)], small_map())
    assert (rows[0]["count"], rows[0]["median"], rows[0]["p25"], rows[0]["p90"]) == (1, 7.0, 7.0, 7.0)
    assert (rows[1]["count"], rows[1]["median"], rows[1]["p90"]) == (0, None, None)
