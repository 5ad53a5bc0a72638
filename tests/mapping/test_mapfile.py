"""Reading, writing and the packaged default map."""
from __future__ import annotations

import json

import pytest

from mapping import (MapValidationError, default_map, default_map_text, load_map_file, map_from_dict, map_to_dict,
                     map_to_yaml, parse_map)
from tests.mapping.helpers import SMALL_MAP_YAML, small_map

SF_OPPORTUNITY_STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
                         "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote",
                         "Negotiation/Review", "Closed Won", "Closed Lost"]
SF_LEAD_STATUSES = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"]
HS_DEAL_STAGES = ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
                  "contractsent", "closedwon", "closedlost"]
HS_LIFECYCLE = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
                "evangelist", "other"]


@pytest.mark.parametrize("crm, obj, pipeline, values", [
    ("salesforce", "opportunity", None, SF_OPPORTUNITY_STAGES),
    ("salesforce", "lead", None, SF_LEAD_STATUSES),
    ("hubspot", "deal", "default", HS_DEAL_STAGES),
    ("hubspot", "contact", None, HS_LIFECYCLE),
])
def test_default_map_covers_the_stock_stages(crm, obj, pipeline, values):
    jmap = default_map()
    assert [value for value in values if jmap.lookup(crm, obj, value, pipeline) is None] == []


def test_default_map_has_the_seven_stages_with_expected_days_and_three_personas():
    jmap = default_map()
    assert jmap.stage_keys == ("awareness", "consideration", "decision", "purchase", "onboarding", "retention",
                               "advocacy")
    assert all(stage.expected_days for stage in jmap.stages)
    assert {rule.key for rule in jmap.personas} == {"enterprise_buyer", "small_buyer", "time_pressed_professional"}
    assert jmap.lookup("salesforce", "opportunity", "Closed Lost") == "lost"
    assert jmap.lookup("hubspot", "deal", "closedlost", "default") == "lost"


def test_default_map_has_an_action_for_every_stage_stalled_or_not():
    jmap = default_map()
    for key in jmap.stage_keys:
        for stalled in (False, True):
            assert any(rule.stage == key and rule.stalled in (None, stalled) and rule.persona is None
                       for rule in jmap.actions), (key, stalled)


def test_default_map_text_keeps_its_comments():
    assert "# How the stock CRM stages are placed" in default_map_text()


@pytest.mark.parametrize("jmap", [default_map(), small_map()], ids=["default", "small"])
def test_yaml_round_trip_is_exact(jmap):
    assert parse_map(map_to_yaml(jmap)) == jmap
    assert map_from_dict(map_to_dict(jmap)) == jmap


def test_round_trip_keeps_keys_yaml_would_read_as_other_types():
    data = map_to_dict(small_map())
    data["sources"]["salesforce"]["opportunity"]["stages"].update({"yes": "lost", "1": "lost", "null": "lost"})
    jmap = map_from_dict(data)
    again = parse_map(map_to_yaml(jmap))
    assert again == jmap
    assert again.lookup("salesforce", "opportunity", "yes") == "lost"


def test_json_is_accepted_even_with_tab_indentation():
    text = json.dumps(map_to_dict(small_map()), indent="\t")
    assert parse_map(text) == small_map()


def test_load_map_file_prefixes_problems_with_the_file_and_line(tmp_path):
    path = tmp_path / "b2b.yaml"
    path.write_text(SMALL_MAP_YAML.replace("expected_days: 20", "expected_days: -1"))
    with pytest.raises(MapValidationError) as caught:
        load_map_file(path)
    assert f"{path}:5: stages[1].expected_days: must be a positive number" in str(caught.value).splitlines()
    assert caught.value.source == str(path)


def test_load_map_file_reads_a_valid_file(tmp_path):
    path = tmp_path / "b2b.yaml"
    path.write_text(SMALL_MAP_YAML)
    assert load_map_file(path) == small_map()


def test_missing_file_is_a_validation_error_naming_the_file(tmp_path):
    with pytest.raises(MapValidationError, match="nope.yaml: cannot read the map file: No such file"):
        load_map_file(tmp_path / "nope.yaml")


def test_map_from_dict_rejects_bad_data():
    data = map_to_dict(small_map())
    data["actions"][0]["stage"] = "closing"
    with pytest.raises(MapValidationError) as caught:
        map_from_dict(data)
    assert [str(p) for p in caught.value.problems] == ["actions[0].stage: unknown stage 'closing'"]


def test_map_is_frozen():
    with pytest.raises(Exception):
        small_map().name = "Other"
