"""Property-based invariants of classification and timelines."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from mapping import (CrmRecord, StageChange, classify, map_from_dict, map_to_dict, map_to_yaml, parse_map,
                     record_from_dict, record_to_dict, state_from_dict, state_to_dict, timeline)
from tests.mapping.helpers import NOW, small_map

JMAP = small_map()
JMAP_AGAIN = small_map()  # an equal map parsed separately: no state may leak between calls
VALUES = ["Prospecting", "Qualification", "Needs Analysis", "Proposal", "Closed Lost", "Old Stage", "Closed Won"]

zones = st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
moments = st.builds(lambda offset, zone: (NOW + timedelta(seconds=offset)).astimezone(zone),
                    st.integers(min_value=-400 * 86400, max_value=5 * 86400), zones)
# Few distinct instants so that same-timestamp ties are common.
tied_moments = st.sampled_from([NOW - timedelta(days=days) for days in (0, 3, 3.5, 10, 40)])
changes = st.builds(StageChange, st.sampled_from(VALUES), st.one_of(moments, tied_moments))

records = st.builds(
    lambda stage, history, created, entered, persona_amount: CrmRecord(
        crm="salesforce", object="opportunity", id="006P", stage_value=stage, created_at=created,
        modified_at=NOW, history=tuple(history), stage_entered_at=entered, fields={"amount": persona_amount}),
    st.one_of(st.none(), st.sampled_from(VALUES)),
    st.lists(changes, max_size=8),
    moments,
    st.one_of(st.none(), moments),
    st.one_of(st.none(), st.integers(min_value=0, max_value=500000)),
)
nows = st.one_of(st.just(NOW), moments)


@settings(max_examples=300, deadline=None)
@given(records, nows)
def test_entered_at_is_never_after_now_and_days_are_never_negative(record, now):
    state = classify(record, JMAP, now)
    assert state.entered_at is not None and state.entered_at <= now
    assert state.days_in_stage >= 0 and state.days_over >= 0
    assert state.stalled == (state.expected_days is not None and state.days_in_stage > state.expected_days)


@settings(max_examples=300, deadline=None)
@given(records, nows, st.randoms(use_true_random=False))
def test_classification_does_not_depend_on_history_order(record, now, rng):
    shuffled = list(record.history)
    rng.shuffle(shuffled)
    other = replace(record, history=tuple(shuffled))
    assert classify(other, JMAP, now) == classify(record, JMAP, now)
    assert timeline(other, JMAP, now) == timeline(record, JMAP, now)


@settings(max_examples=200, deadline=None)
@given(records, nows)
def test_same_input_gives_same_output(record, now):
    assert classify(record, JMAP, now) == classify(record, JMAP, now) == classify(record, JMAP_AGAIN, now)


@settings(max_examples=200, deadline=None)
@given(records, nows)
def test_timeline_spans_are_contiguous_and_end_in_the_classified_state(record, now):
    spans = timeline(record, JMAP, now)
    state = classify(record, JMAP, now)
    assert all(earlier.exited_at == later.entered_at for earlier, later in zip(spans, spans[1:]))
    assert all(span.entered_at <= (span.exited_at or now) <= now for span in spans)
    assert all(span.days >= 0 for span in spans)
    assert (spans[-1].stage, spans[-1].entered_at, spans[-1].exited_at) == (state.stage, state.entered_at, None)


crm_values = st.text(min_size=1, max_size=20)
labels = st.text(max_size=30)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(crm_values, st.sampled_from(["awareness", "decision", "lost"]), max_size=6),
       labels, labels, st.one_of(st.none(), st.integers(min_value=1, max_value=10_000)))
def test_any_map_survives_the_yaml_round_trip(stages, name, label, days):
    data = map_to_dict(JMAP)
    data["name"] = name
    data["stages"][0].update(label=label, expected_days=days)
    data["sources"]["salesforce"]["opportunity"]["stages"] = stages or {"Prospecting": "awareness"}
    jmap = map_from_dict(data)
    assert parse_map(map_to_yaml(jmap)) == jmap


@settings(max_examples=150, deadline=None)
@given(records, nows)
def test_records_and_states_survive_the_json_round_trip(record, now):
    assert record_from_dict(json.loads(json.dumps(record_to_dict(record)))) == record
    state = classify(record, JMAP, now)
    assert state_from_dict(json.loads(json.dumps(state_to_dict(state)))) == state
