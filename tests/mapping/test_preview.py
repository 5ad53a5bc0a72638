"""Preview: a dry run of a new map against stored states."""
from __future__ import annotations

import json

from mapping import classify, map_from_dict, map_to_dict, preview
from tests.mapping.helpers import NOW, opportunity, small_map


def changed_map():
    """The small map with Proposal unmapped, Needs Analysis moved to decision and consideration at 5 days."""
    data = map_to_dict(small_map())
    stages = data["sources"]["salesforce"]["opportunity"]["stages"]
    del stages["Proposal"]
    stages["Needs Analysis"] = "decision"
    data["stages"][1]["expected_days"] = 5
    return map_from_dict(data)


def records():
    return [
        opportunity("Qualification", ("Qualification", 8), id="A"),       # turns stalled (8 > 5)
        opportunity("Needs Analysis", ("Needs Analysis", 30), id="B"),    # stops being stalled (decision)
        opportunity("Proposal", ("Proposal", 3), id="C"),                 # becomes unmapped
        opportunity("Prospecting", ("Prospecting", 2), id="D"),           # unchanged
        opportunity("Closed Lost", ("Closed Lost", 2), id="E"),           # unchanged, no stored state
    ]


def stored_pairs():
    old = small_map()
    pairs = [(record, classify(record, old, NOW)) for record in records()]
    pairs[-1] = (pairs[-1][0], None)
    return pairs


def test_counts_before_and_after():
    report = preview(stored_pairs(), changed_map(), NOW)
    assert report.total == 5
    assert [(row["stage"], row["before"], row["after"]) for row in report.stage_counts()] == [
        ("awareness", 1, 1), ("consideration", 2, 1), ("decision", 1, 1), ("lost", 0, 1),
        ("unclassified", 1, 0), ("unmapped", 0, 1)]


def test_stall_and_unmapped_changes():
    report = preview(stored_pairs(), changed_map(), NOW)
    assert (report.turn_stalled, report.turn_stalled_ids) == (1, ["A"])
    assert (report.stop_stalled, report.stop_stalled_ids) == (1, ["B"])
    assert (report.become_unmapped, report.become_unmapped_ids) == (1, ["C"])


def test_rewrites_count_changed_desired_values_and_records_the_crm_holds_nothing_for():
    report = preview(stored_pairs(), changed_map(), NOW)
    # A: stalled + action change, B: stage change, E: no stored state and nothing in the CRM yet.
    assert report.rewritten == 3


def test_samples_show_changed_records_up_to_the_limit():
    report = preview(stored_pairs(), changed_map(), NOW, sample=2)
    assert [row["id"] for row in report.samples] == ["A", "B"]
    first = report.samples[0]
    assert (first["before"]["stalled"], first["after"]["stalled"]) == (False, True)
    assert len(preview(stored_pairs(), changed_map(), NOW).samples) == 4


def test_same_map_changes_nothing():
    report = preview(stored_pairs()[:-1], small_map(), NOW)
    assert (report.rewritten, report.turn_stalled, report.stop_stalled, report.become_unmapped) == (0, 0, 0, 0)
    assert report.samples == []


def test_report_is_json_serialisable():
    data = json.loads(json.dumps(preview(stored_pairs(), changed_map(), NOW).to_dict()))
    assert data["total"] == 5
    assert data["become_unmapped"] == {"count": 1, "ids": ["C"]}
    assert data["stages"][0] == {"stage": "awareness", "label": "Awareness", "before": 1, "after": 1}
