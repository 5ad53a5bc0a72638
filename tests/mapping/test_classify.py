"""Classification: journey stage, entry moment, stall verdict, persona and next best action."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from mapping import CrmRecord, StageChange, classify, default_map
from tests.mapping.helpers import NOW, days_ago, opportunity, small_map


def test_several_crm_stages_in_one_journey_stage_count_from_the_first_of_the_run():
    record = opportunity("Needs Analysis", ("Prospecting", 60), ("Qualification", 30), ("Needs Analysis", 5))
    state = classify(record, small_map(), NOW)
    assert (state.stage, state.stage_label, state.stage_index) == ("consideration", "Consideration", 1)
    assert state.entered_at == days_ago(30)
    assert state.entered_at_source == "history"
    assert state.days_in_stage == 30
    assert (state.expected_days, state.stalled, state.days_over) == (20, True, 10)
    assert state.crm_stage == "Needs Analysis"


def test_a_backward_move_starts_a_new_run():
    record = opportunity("Qualification", ("Qualification", 60), ("Proposal", 40), ("Qualification", 8))
    state = classify(record, small_map(), NOW)
    assert state.entered_at == days_ago(8)
    assert (state.days_in_stage, state.stalled, state.days_over) == (8, False, 0)


def test_another_stage_in_between_breaks_the_run_even_if_unmapped():
    record = opportunity("Needs Analysis", ("Qualification", 50), ("Renamed Stage", 40), ("Needs Analysis", 3))
    assert classify(record, small_map(), NOW).entered_at == days_ago(3)


def test_stalled_only_past_the_expected_days():
    jmap = small_map()
    exactly = classify(opportunity("Qualification", ("Qualification", 20)), jmap, NOW)
    over = classify(opportunity("Qualification", ("Qualification", 21)), jmap, NOW)
    assert (exactly.days_in_stage, exactly.stalled) == (20, False)
    assert (over.days_in_stage, over.stalled, over.days_over) == (21, True, 1)


def test_whole_days_are_counted_down():
    state = classify(opportunity("Qualification", ("Qualification", 20.9)), small_map(), NOW)
    assert state.days_in_stage == 20


def test_a_stage_without_expected_days_never_stalls():
    state = classify(opportunity("Proposal", ("Proposal", 900)), small_map(), NOW)
    assert (state.expected_days, state.stalled, state.days_in_stage) == (None, False, 900)


def test_exits_never_stall():
    state = classify(opportunity("Closed Lost", ("Prospecting", 400), ("Closed Lost", 300)), small_map(), NOW)
    assert (state.stage, state.is_exit, state.stage_index) == ("lost", True, None)
    assert (state.expected_days, state.stalled, state.days_in_stage) == (None, False, 300)
    assert state.next_best_action == "Nurture"


def test_an_unmapped_crm_stage_is_explicit():
    state = classify(opportunity("Closed Won", ("Prospecting", 40), ("Closed Won", 10)), small_map(), NOW)
    assert (state.stage, state.stage_label, state.unmapped) == ("unmapped", "Unmapped", True)
    assert state.crm_stage == "Closed Won"
    assert (state.stalled, state.stage_index, state.is_exit, state.next_best_action) == (False, None, False, None)


def test_a_record_without_a_stage_is_unmapped():
    state = classify(opportunity(None), small_map(), NOW)
    assert (state.stage, state.unmapped, state.crm_stage, state.stalled) == ("unmapped", True, None, False)


def test_a_record_whose_crm_has_no_source_is_unmapped():
    record = replace(opportunity("Prospecting"), crm="pipedrive")
    assert classify(record, small_map(), NOW).unmapped


def test_without_history_the_stage_date_field_is_used():
    state = classify(opportunity("Qualification", stage_entered_at=days_ago(25)), small_map(), NOW)
    assert (state.entered_at, state.entered_at_source, state.stalled) == (days_ago(25), "stage_date_field", True)


def test_without_history_or_stage_date_the_created_date_is_used():
    state = classify(opportunity("Qualification", created=12), small_map(), NOW)
    assert (state.entered_at, state.entered_at_source, state.days_in_stage) == (days_ago(12), "created_date", 12)


def test_history_that_ends_elsewhere_falls_back_to_the_stage_date_field():
    record = opportunity("Proposal", ("Prospecting", 90), ("Qualification", 60), stage_entered_at=days_ago(15))
    state = classify(record, small_map(), NOW)
    assert (state.stage, state.entered_at, state.entered_at_source) == ("decision", days_ago(15), "stage_date_field")


def test_a_fallback_date_before_the_last_recorded_change_is_raised_to_it():
    record = opportunity("Proposal", ("Prospecting", 90), ("Qualification", 60), created=100)
    state = classify(record, small_map(), NOW)
    assert (state.entered_at, state.entered_at_source) == (days_ago(60), "history")


def test_history_missing_the_last_move_within_the_same_journey_stage_still_counts():
    record = opportunity("Needs Analysis", ("Prospecting", 90), ("Qualification", 30))
    state = classify(record, small_map(), NOW)
    assert (state.entered_at, state.entered_at_source) == (days_ago(30), "history")


def test_history_order_does_not_matter():
    jmap = small_map()
    ordered = opportunity("Needs Analysis", ("Prospecting", 60), ("Qualification", 30), ("Needs Analysis", 5))
    shuffled = replace(ordered, history=tuple(reversed(ordered.history)))
    assert classify(ordered, jmap, NOW) == classify(shuffled, jmap, NOW)


def test_same_timestamp_ties_put_the_current_stage_last_whatever_the_input_order():
    jmap = small_map()
    record = opportunity("Qualification", ("Prospecting", 40), ("Proposal", 10), ("Qualification", 10))
    flipped = replace(record, history=(record.history[0], record.history[2], record.history[1]))
    for candidate in (record, flipped):
        state = classify(candidate, jmap, NOW)
        assert (state.stage, state.entered_at, state.entered_at_source) == ("consideration", days_ago(10), "history")


def test_entries_after_now_are_treated_as_now():
    record = opportunity("Qualification", ("Prospecting", 30), ("Qualification", -2))
    state = classify(record, small_map(), NOW)
    assert (state.entered_at, state.days_in_stage) == (NOW, 0)


def test_a_created_date_in_the_future_never_gives_an_entry_after_now():
    state = classify(opportunity("Qualification", created=-3), small_map(), NOW)
    assert (state.entered_at, state.days_in_stage) == (NOW, 0)


def test_other_time_zones_and_naive_datetimes_are_read_as_utc_moments():
    plus_two = timezone(timedelta(hours=2))
    record = opportunity("Qualification", ("Qualification", 0))
    record = replace(record, history=(StageChange("Qualification", datetime(2026, 11, 1, 14, 0, tzinfo=plus_two)),))
    state = classify(record, small_map(), datetime(2026, 11, 23, 12, 0))
    assert state.entered_at == datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
    assert state.entered_at.tzinfo == timezone.utc
    assert state.days_in_stage == 22


def test_hubspot_deals_map_through_their_pipeline():
    record = CrmRecord(crm="hubspot", object="deal", id="1", stage_value="123", pipeline="renewals",
                       created_at=days_ago(10), modified_at=NOW)
    state = classify(record, small_map(), NOW)
    assert (state.stage, state.pipeline, state.entered_at_source) == ("decision", "renewals", "created_date")


def test_the_compiled_stage_tables_answer_as_the_map_does_for_every_pipeline():
    """Classification reads one flat table per CRM object and pipeline, built once per map
    version: a pipeline's own mapping wins, the source's stages serve the rest."""
    jmap = default_map()
    for crm, objects in jmap.sources.items():
        for object_, source in objects.items():
            pipelines = [None, "no-such-pipeline", *(source.pipelines or {})]
            values = {*(source.stages or {}), *(v for p in (source.pipelines or {}).values() for v in p)}
            for pipeline in pipelines:
                table = jmap.compiled.stage_table(crm, object_, None, pipeline)
                assert {v: table.get(v) for v in values} == \
                    {v: jmap.lookup(crm, object_, v, pipeline) for v in values}
    assert jmap.compiled is jmap.compiled


def test_a_salesforce_contact_follows_the_opportunity_source():
    record = CrmRecord(crm="salesforce", object="contact", stage_object="opportunity", id="003A",
                       stage_value="Qualification", created_at=days_ago(5), modified_at=NOW)
    state = classify(record, small_map(), NOW)
    assert (state.object, state.stage) == ("contact", "consideration")


@pytest.mark.parametrize("amount, stalled, crm, expected_persona, expected_action", [
    (250000, False, "salesforce", "big", "Send the ROI case study"),
    (250000, True, "salesforce", "big", "Re-engage"),
    (1000, False, "salesforce", "general", "Send the comparison"),
    (1000, False, "hubspot", "general", "Invite to webinar"),
    (None, False, "salesforce", "general", "Send the comparison"),
])
def test_persona_and_next_best_action(amount, stalled, crm, expected_persona, expected_action):
    record = opportunity("Qualification", ("Qualification", 30 if stalled else 3), fields={"amount": amount})
    if crm == "hubspot":
        record = replace(record, crm="hubspot", object="deal", stage_value="appointmentscheduled",
                         pipeline="default", history=(StageChange("appointmentscheduled", days_ago(3)),))
    state = classify(record, small_map(), NOW)
    assert (state.persona, state.next_best_action) == (expected_persona, expected_action)
    assert state.persona_label == {"big": "Big buyer", "general": "General"}[expected_persona]


def test_no_matching_action_gives_none():
    assert classify(opportunity("Prospecting", ("Prospecting", 1)), small_map(), NOW).next_best_action is None


def test_state_carries_the_record_identity():
    state = classify(opportunity("Prospecting", id="006XYZ"), small_map(), NOW)
    assert (state.crm, state.object, state.id) == ("salesforce", "opportunity", "006XYZ")
