"""Timelines: a record's journey as spans, built with the same run rule as classification."""
from __future__ import annotations

from mapping import classify, timeline
from tests.mapping.helpers import NOW, days_ago, opportunity, small_map


def test_spans_follow_the_runs_and_the_last_one_is_current():
    record = opportunity("Qualification", ("Prospecting", 100), ("Qualification", 95), ("Needs Analysis", 80),
                         ("Proposal", 50), ("Qualification", 12))
    spans = timeline(record, small_map(), NOW)
    assert [(s.stage, s.entered_at, s.exited_at, s.days, s.stalled, s.crm_stages) for s in spans] == [
        ("awareness", days_ago(100), days_ago(95), 5, False, ("Prospecting",)),
        ("consideration", days_ago(95), days_ago(50), 45, True, ("Qualification", "Needs Analysis")),
        ("decision", days_ago(50), days_ago(12), 38, False, ("Proposal",)),
        ("consideration", days_ago(12), None, 12, False, ("Qualification",)),
    ]
    assert spans[1].label == "Consideration"


def test_current_span_matches_classification():
    record = opportunity("Needs Analysis", ("Prospecting", 60), ("Qualification", 30))
    state = classify(record, small_map(), NOW)
    current = timeline(record, small_map(), NOW)[-1]
    assert (current.stage, current.entered_at, current.days, current.stalled) == (
        state.stage, state.entered_at, state.days_in_stage, state.stalled)
    assert current.crm_stages == ("Qualification", "Needs Analysis")


def test_unmapped_stages_and_exits_appear_as_spans_that_never_stall():
    record = opportunity("Closed Lost", ("Prospecting", 300), ("Old Stage", 250), ("Closed Lost", 100))
    spans = timeline(record, small_map(), NOW)
    assert [(s.stage, s.label, s.stalled) for s in spans] == [
        ("awareness", "Awareness", True), ("unmapped", "Unmapped", False), ("lost", "Lost", False)]
    assert spans[1].crm_stages == ("Old Stage",)


def test_without_history_the_timeline_is_one_span_from_the_fallback_date():
    (span,) = timeline(opportunity("Prospecting", created=4), small_map(), NOW)
    assert (span.stage, span.entered_at, span.exited_at, span.days) == ("awareness", days_ago(4), None, 4)


def test_history_ending_elsewhere_gets_a_current_span_after_it():
    record = opportunity("Proposal", ("Prospecting", 90), ("Qualification", 60), stage_entered_at=days_ago(15))
    spans = timeline(record, small_map(), NOW)
    assert [(s.stage, s.entered_at, s.exited_at) for s in spans] == [
        ("awareness", days_ago(90), days_ago(60)),
        ("consideration", days_ago(60), days_ago(15)),
        ("decision", days_ago(15), None)]
