"""What changed between two map versions, and when a map is due for review."""
from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from mapping import map_from_dict, map_to_dict
from mapping.changes import change_summary, map_changes
from mapping.review import review_status
from tests.mapping.helpers import NOW, small_map


def base() -> dict:
    return map_to_dict(small_map())


def rows(changes) -> list[tuple[str, str, str, str | None, str | None]]:
    return [(c.section, c.kind, c.subject, c.before, c.after) for c in changes]


def test_identical_maps_have_no_change():
    assert map_changes(base(), base()) == []
    assert change_summary([]) == "No change"


def test_expected_days_and_stage_fields_are_told_apart():
    new = base()
    new["stages"][1]["expected_days"] = 5
    del new["stages"][0]["expected_days"]
    new["stages"][2]["goal"] = "Sign"
    assert rows(map_changes(base(), new)) == [
        ("stages", "changed", "Decision · goal", None, "Sign"),
        ("expected_days", "changed", "Awareness", "10", "never stalls"),
        ("expected_days", "changed", "Consideration", "20", "5"),
    ]
    assert change_summary(map_changes(base(), new)) == "1 stage, 2 expected days changed"


def test_stages_added_removed_relabelled_and_reordered():
    new = base()
    new["stages"] = [new["stages"][1], {"key": "awareness", "label": "Aware"},
                     {"key": "purchase", "label": "Purchase"}]
    new["sources"]["salesforce"]["opportunity"]["stages"]["Proposal"] = "purchase"
    new["sources"]["hubspot"]["deal"]["pipelines"]["default"]["contractsent"] = "purchase"
    new["sources"]["hubspot"]["deal"]["pipelines"]["renewals"]["123"] = "purchase"
    changes = rows(map_changes(base(), new))
    assert ("stages", "added", "Purchase", None, "purchase") in changes
    assert ("stages", "removed", "Decision", "decision", None) in changes
    assert ("stages", "changed", "Aware", "Awareness", "Aware") in changes
    assert ("stages", "changed", "Order", "awareness → consideration", "consideration → awareness") in changes
    assert ("expected_days", "changed", "Aware", "10", "never stalls") in changes


def test_mappings_name_crm_object_pipeline_and_stage():
    new = base()
    opp = new["sources"]["salesforce"]["opportunity"]["stages"]
    opp["Needs Analysis"] = "decision"
    del opp["Proposal"]
    opp["Negotiation"] = "decision"
    new["sources"]["hubspot"]["deal"]["pipelines"]["default"]["contractsent"] = "lost"
    assert rows(map_changes(base(), new)) == [
        ("mappings", "changed", "hubspot deal · pipeline default · contractsent", "decision", "lost"),
        ("mappings", "changed", "salesforce opportunity · Needs Analysis", "consideration", "decision"),
        ("mappings", "added", "salesforce opportunity · Negotiation", None, "decision"),
        ("mappings", "removed", "salesforce opportunity · Proposal", "decision", None),
    ]
    assert change_summary(map_changes(base(), new)) == "4 CRM stage mappings changed"


def test_personas_compare_by_key_and_show_conditions():
    new = base()
    new["personas"][0]["when"][0]["value"] = 50000
    new["personas"].append({"key": "cto", "label": "CTO",
                            "when": [{"field": "job_title", "op": "contains", "value": "CTO"}]})
    changes = rows(map_changes(base(), new))
    assert changes == [
        ("personas", "changed", "Big buyer", "amount gte 100000", "amount gte 50000"),
        ("personas", "added", "CTO", None, "job_title contains CTO"),
    ]
    removed = rows(map_changes(new, base()))
    assert ("personas", "removed", "CTO", "job_title contains CTO", None) in removed


def test_actions_added_removed_and_reordered():
    new = base()
    new["actions"][3]["action"] = "Send the comparison sheet"
    changes = rows(map_changes(base(), new))
    assert changes == [
        ("actions", "added", "Send the comparison sheet (when stage consideration)", None,
         "Send the comparison sheet (when stage consideration)"),
        ("actions", "removed", "Send the comparison (when stage consideration)",
         "Send the comparison (when stage consideration)", None),
    ]
    reordered = base()
    reordered["actions"].reverse()
    assert rows(map_changes(base(), reordered)) == [
        ("actions", "changed", "Order (first match wins)", None, None)]


def test_settings_and_exits():
    new = base()
    new["review"] = {"every_days": 30}
    new["exits"].append({"key": "converted", "label": "Converted"})
    new["name"] = "Small v2"
    assert rows(map_changes(base(), new)) == [
        ("exits", "added", "Converted", None, "converted"),
        ("settings", "changed", "Name", "Small", "Small v2"),
        ("settings", "added", "Review", None, "every_days: 30"),
    ]


def test_an_old_document_the_current_format_rejects_is_still_described():
    old = copy.deepcopy(base())
    old["stages"][0]["expected_days"] = "ten"      # invalid today; stored long ago
    old["obsolete"] = {"x": 1}
    changes = rows(map_changes(old, base()))
    assert changes == [("expected_days", "changed", "Awareness", "ten", "10")]


def test_review_defaults_to_quarterly():
    jmap = small_map()
    assert jmap.review is None and jmap.review_rule.every_days == 90
    never = review_status(jmap, None, NOW)
    assert never.due and never.last_reviewed is None
    recent = review_status(jmap, NOW - timedelta(days=89, hours=23), NOW)
    assert not recent.due and recent.days_overdue == 0
    late = review_status(jmap, NOW - timedelta(days=100), NOW)
    assert late.due and late.days_overdue == 10 and late.due_at == NOW - timedelta(days=10)


def test_review_period_comes_from_the_map():
    data = base()
    data["review"] = {"every_days": 30}
    jmap = map_from_dict(data)
    assert review_status(jmap, NOW - timedelta(days=31), NOW).due
    assert not review_status(small_map(), NOW - timedelta(days=31), NOW).due


@pytest.mark.parametrize("review", [{"every_days": 0}, {"every_days": 1.5}, {"every": 30}, "monthly"])
def test_a_bad_review_section_is_a_located_problem(review):
    from mapping import MapValidationError
    data = base()
    data["review"] = review
    with pytest.raises(MapValidationError) as caught:
        map_from_dict(data)
    assert all(p.path.startswith("review") for p in caught.value.problems)
