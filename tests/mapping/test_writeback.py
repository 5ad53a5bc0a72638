"""Write-back: desired values from a state, and a plan holding only real changes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from mapping import (CHOICE_FIELDS, WRITEBACK_FIELDS, classify, desired_writeback, map_from_dict,
                     map_to_dict, plan_writeback, writeback_choices)
from mapping.records import DAY_COUNT_FIELDS
from tests.mapping.helpers import NOW, days_ago, opportunity, small_map

ENTERED = datetime(2026, 10, 24, 12, 0, 0, 250000, tzinfo=timezone.utc)


def desired() -> dict:
    return {"journey_stage": "Consideration", "persona": "Big buyer", "next_best_action": "Re-engage",
            "stalled": True, "stage_entered_at": ENTERED}


def test_desired_writeback_holds_keys_the_entry_date_and_the_stall_date():
    state = classify(opportunity("Qualification", ("Qualification", 30), fields={"amount": 500000}), small_map(), NOW)
    values = desired_writeback(state)
    # consideration expects 20 days: the record turned stalled on its 21st whole day
    assert values == {"journey_stage": "consideration", "persona": "big", "next_best_action": "Re-engage",
                      "stalled": True, "stage_entered_at": days_ago(30), "stalls_at": days_ago(30 - 21),
                      "days_in_stage": 30, "days_over_expected": 10}
    assert set(values) == set(WRITEBACK_FIELDS) - {"journey_updated_at"} | set(DAY_COUNT_FIELDS)


def test_unmapped_records_have_no_desired_writeback():
    state = classify(opportunity("Closed Won"), small_map(), NOW)
    assert desired_writeback(state) is None
    assert plan_writeback(None, {"journey_stage": "Decision"}, NOW) == {}


def test_everything_differs_on_a_fresh_record():
    assert plan_writeback(desired(), {}, NOW) == {**desired(), "journey_updated_at": NOW}


def test_crm_representations_of_equal_values_plan_nothing():
    held = {"journey_stage": "Consideration", "persona": "Big buyer", "next_best_action": "Re-engage",
            "stalled": "true", "stage_entered_at": "2026-10-24T14:00:00.000+0200",
            "journey_updated_at": "2026-11-01T00:00:00Z"}
    assert plan_writeback(desired(), held, NOW) == {}


@pytest.mark.parametrize("key, held, differs", [
    ("stalled", "false", True),
    ("stalled", "TRUE", False),
    ("stalled", False, True),
    ("stage_entered_at", ENTERED.replace(microsecond=0), False),
    ("stage_entered_at", ENTERED + timedelta(seconds=1), True),
    ("stage_entered_at", "2026-10-24T12:00:00Z", False),
    ("stage_entered_at", None, True),
    ("journey_stage", "Decision", True),
    ("journey_stage", None, True),
])
def test_only_real_differences_are_planned(key, held, differs):
    current = {**desired(), key: held}
    plan = plan_writeback(desired(), current, NOW)
    assert plan == ({key: desired()[key], "journey_updated_at": NOW} if differs else {})


def test_an_empty_string_equals_none():
    wanted = {**desired(), "next_best_action": None}
    assert plan_writeback(wanted, {**desired(), "next_best_action": ""}, NOW) == {}
    assert plan_writeback(wanted, {**desired(), "next_best_action": "Call"}, NOW) == {
        "next_best_action": None, "journey_updated_at": NOW}


def test_choices_are_the_maps_stages_exits_and_personas_in_map_order_with_labels():
    jmap = small_map()
    choices = writeback_choices(jmap)
    assert choices["journey_stage"] == ([(s.key, s.label) for s in jmap.stages]
                                        + [(e.key, e.label) for e in jmap.exits])
    assert choices["persona"] == [("big", "Big buyer"), ("general", "General")]
    assert set(choices) == set(CHOICE_FIELDS)


def test_a_persona_that_several_rules_give_is_one_choice():
    data = map_to_dict(small_map())
    data["personas"].append({**data["personas"][0], "when": [{"field": "country", "op": "eq", "value": "FR"}]})
    assert [key for key, _ in writeback_choices(map_from_dict(data))["persona"]] == ["big", "general"]


def test_the_stall_date_is_when_classify_turns_the_record_stalled():
    jmap = small_map()
    record = opportunity("Qualification", ("Qualification", 5))
    at = desired_writeback(classify(record, jmap, NOW))["stalls_at"]
    assert not classify(record, jmap, at - timedelta(seconds=1)).stalled
    assert classify(record, jmap, at).stalled


def test_exits_and_stages_that_never_stall_have_no_stall_date():
    assert desired_writeback(classify(opportunity("Closed Lost"), small_map(), NOW))["stalls_at"] is None


def test_day_counts_go_only_to_a_crm_that_holds_them_and_only_when_a_whole_day_passes():
    jmap = small_map()
    record = opportunity("Qualification", ("Qualification", 30))
    values = desired_writeback(classify(record, jmap, NOW))
    derived = {k: v for k, v in values.items() if k not in DAY_COUNT_FIELDS}
    # a CRM that computes day counts itself does not report them: nothing is planned for them
    assert plan_writeback(values, derived, NOW) == {}
    # a CRM that holds them gets them once, then nothing until a whole day has passed
    assert plan_writeback(values, {**derived, "days_in_stage": None, "days_over_expected": None}, NOW) == {
        "days_in_stage": 30, "days_over_expected": 10, "journey_updated_at": NOW}
    for hours in (1, 23):
        later = desired_writeback(classify(record, jmap, NOW + timedelta(hours=hours)))
        assert plan_writeback(later, values, NOW) == {}
    next_day = desired_writeback(classify(record, jmap, NOW + timedelta(days=1)))
    assert plan_writeback(next_day, values, NOW) == {"days_in_stage": 31, "days_over_expected": 11,
                                                     "journey_updated_at": NOW}


def test_a_record_in_an_exit_holds_no_day_counts():
    values = desired_writeback(classify(opportunity("Closed Lost", ("Closed Lost", 400)), small_map(), NOW))
    assert (values["days_in_stage"], values["days_over_expected"]) == (None, None)
