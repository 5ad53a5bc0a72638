"""The map validator: every problem at once, each with its path and line."""
from __future__ import annotations

import pytest
import yaml

from mapping import MapProblem, MapValidationError, map_from_dict, parse_map, validate_map_data
from mapping import yamldoc
from tests.mapping.helpers import SMALL_MAP_YAML

# Line numbers matter below: each error sits on a known line.
MANY_ERRORS = """\
version: 1
name: Broken
stages:
  - key: awareness
    label: Awareness
    expected_days: 14
  - key: awareness
    label: Awareness again
  - key: decision
    label: Decision
    expected_days: -3
exits:
  - {key: lost, label: Lost}
sources:
  hubspot:
    deal:
      field: dealstage
      pipelines:
        default:
          appointmentscheduled: awareness
          closedwon: purchased
personas:
  - key: big
    label: Big
    when: [{field: amount, op: between, value: 5}]
actions:
  - {stage: decision, persona: vip, action: Call}
"""


def problems_of(text: str) -> list[MapProblem]:
    with pytest.raises(MapValidationError) as caught:
        parse_map(text)
    return caught.value.problems


def test_every_problem_is_reported_with_its_path_and_line():
    assert [str(p) for p in problems_of(MANY_ERRORS)] == [
        "stages[1].key: duplicate stage key 'awareness' (also stages[0]) (line 7)",
        "stages[2].expected_days: must be a positive number (line 11)",
        "sources.hubspot.deal.pipelines.default.closedwon: unknown stage 'purchased' (line 21)",
        "personas[0].when[0].op: unknown operator 'between' "
        "(use one of eq, ne, lt, lte, gt, gte, in, not_in, contains, exists) (line 25)",
        "actions[0].persona: unknown persona 'vip' (line 27)",
    ]


def test_error_message_lists_problems_with_source_and_line():
    with pytest.raises(MapValidationError) as caught:
        parse_map(MANY_ERRORS, source="maps/b2b.yaml")
    lines = str(caught.value).splitlines()
    assert lines[0] == "maps/b2b.yaml: 5 problems in the journey map"
    assert lines[2] == "maps/b2b.yaml:11: stages[2].expected_days: must be a positive number"


def test_malformed_yaml_gives_the_line():
    text = "version: 1\nname: x\nstages:\n  - key: a\n   label: [unclosed\n"
    (problem,) = problems_of(text)
    assert problem.message.startswith("malformed YAML")
    assert problem.line == 5


def test_control_characters_are_a_problem_not_a_crash():
    (problem,) = problems_of("version: 1\nname: x\x00\n")
    assert problem.message.startswith("malformed YAML: unacceptable character #x0000")


def test_several_yaml_documents_are_rejected():
    (problem,) = problems_of(SMALL_MAP_YAML + "---\nversion: 1\n")
    assert problem.message.startswith("malformed YAML: expected a single document")
    assert problem.line == 33


def test_malformed_json_gives_the_line():
    (problem,) = problems_of('{\n  "version": 1,\n  "name": "x",,\n}')
    assert problem.message.startswith("malformed JSON")
    assert problem.line == 3


def test_duplicate_yaml_mapping_keys_are_rejected_with_both_lines():
    text = SMALL_MAP_YAML.replace("name: Small\n", "name: Small\nname: Other\n")
    (problem,) = problems_of(text)
    assert str(problem) == "name: duplicate key 'name' (first on line 2) (line 3)"


def test_unknown_stage_in_a_stage_mapping_with_a_label_key():
    text = SMALL_MAP_YAML.replace("Closed Lost: lost", "Closed Lost: gone")
    (problem,) = problems_of(text)
    assert str(problem) == 'sources.salesforce.opportunity.stages["Closed Lost"]: unknown stage \'gone\' (line 14)'


@pytest.mark.parametrize("text", ["", "# only a comment\n", "~\n"])
def test_empty_map_is_rejected(text):
    assert [p.message for p in problems_of(text)] == ["the map is empty"]


def base_data() -> dict:
    return {
        "version": 1, "name": "Test",
        "stages": [{"key": "awareness", "label": "Awareness", "expected_days": 5},
                   {"key": "decision", "label": "Decision"}],
        "exits": [{"key": "lost", "label": "Lost"}],
        "sources": {"salesforce": {"opportunity": {"field": "StageName", "stages": {"Prospecting": "awareness"}}}},
        "personas": [{"key": "big", "label": "Big", "when": [{"field": "amount", "op": "gte", "value": 10}]}],
        "actions": [{"stage": "decision", "action": "Call"}],
    }


def messages(data) -> list[str]:
    return [str(p) for p in validate_map_data(data)]


def test_valid_data_has_no_problems():
    assert messages(base_data()) == []


def test_stage_kpis_are_read():
    data = base_data()
    data["stages"][0].update(owner="SDR team", targets={"conversion": 35.5, "median_days": 9})
    data["stages"][1].update(targets={"median_days": 4})
    assert messages(data) == []
    jmap = map_from_dict(data)
    assert (jmap.stages[0].owner, jmap.stages[0].targets.conversion, jmap.stages[0].targets.median_days) == (
        "SDR team", 35.5, 9)
    assert jmap.stages[1].targets.conversion is None


@pytest.mark.parametrize("change, expected", [
    (lambda d: d.update(version=2), "version: must be 1"),
    (lambda d: d.pop("name"), "name: is required"),
    (lambda d: d.update(stages=[]), "stages: must not be empty"),
    (lambda d: d["stages"][0].update(expected_days=0), "stages[0].expected_days: must be a positive number"),
    (lambda d: d["stages"][0].update(expected_days="14"), "stages[0].expected_days: must be a positive number"),
    (lambda d: d["stages"][0].update(expected_days=True), "stages[0].expected_days: must be a positive number"),
    (lambda d: d["stages"][0].update(expected_days=2.5), "stages[0].expected_days: must be a whole number of days"),
    (lambda d: d["stages"][0].update(expected_dayz=3), "stages[0].expected_dayz: unknown key"),
    (lambda d: d["stages"][0].update(targets={"conversion": 140}),
     "stages[0].targets.conversion: must be a percentage from 0 to 100"),
    (lambda d: d["stages"][0].update(targets={"conversion": "40%"}),
     "stages[0].targets.conversion: must be a percentage from 0 to 100"),
    (lambda d: d["stages"][0].update(targets={"median_days": 0}),
     "stages[0].targets.median_days: must be a positive number"),
    (lambda d: d["stages"][0].update(targets={"speed": 3}), "stages[0].targets.speed: unknown key"),
    (lambda d: d["stages"][0].update(targets=40), "stages[0].targets: must be a mapping"),
    (lambda d: d["stages"][1].update(targets={"conversion": 30}),
     "stages[1].targets.conversion: the last stage has no next stage to convert to"),
    (lambda d: d["stages"][0].update(owner=""), "stages[0].owner: must not be empty"),
    (lambda d: d["stages"][0].update(owner=7), "stages[0].owner: must be a string"),
    (lambda d: d["stages"].append({"key": "Re tention", "label": "R"}),
     "stages[2].key: 'Re tention' must be a lowercase identifier (a-z, 0-9 and _, starting with a letter)"),
    (lambda d: d["exits"].append({"key": "unmapped", "label": "U"}),
     "exits[1].key: 'unmapped' is reserved for records the map does not place"),
    (lambda d: d["exits"].append({"key": "decision", "label": "Dup"}),
     "exits[1].key: duplicate stage key 'decision' (also stages[1])"),
    (lambda d: d["sources"]["salesforce"]["opportunity"].pop("stages"),
     "sources.salesforce.opportunity: needs 'stages' or 'pipelines'"),
    (lambda d: d["sources"]["salesforce"]["opportunity"]["stages"].update({"Won": "purchase"}),
     "sources.salesforce.opportunity.stages.Won: unknown stage 'purchase'"),
    (lambda d: d["sources"]["salesforce"]["opportunity"]["stages"].update({"Won": 3}),
     "sources.salesforce.opportunity.stages.Won: must be a string"),
    (lambda d: d["personas"][0]["when"][0].update(field="revenue"),
     "personas[0].when[0].field: unknown field 'revenue' (use one of amount, industry, employee_count, "
     "job_title, lead_source, country, owner_id, company, or crm.<FieldName> for a raw CRM field)"),
    (lambda d: d["personas"][0]["when"][0].update(value="ten"),
     "personas[0].when[0].value: must be a number for 'gte'"),
    (lambda d: d["personas"][0]["when"][0].update(op="in", value=[]),
     "personas[0].when[0].value: must be a non-empty list of values for 'in'"),
    (lambda d: d["personas"][0]["when"][0].update(op="exists", value="yes"),
     "personas[0].when[0].value: must be true or false for 'exists'"),
    (lambda d: d["personas"][0]["when"][0].update(op="contains", value=5),
     "personas[0].when[0].value: must be a string, or a non-empty list of strings (any of them), for 'contains'"),
    (lambda d: d["personas"][0]["when"][0].update(op="eq", value=None),
     "personas[0].when[0].value: must be a string, number or true/false for 'eq'"),
    (lambda d: d["personas"].append({"key": "big", "label": "Huge", "when": []}),
     "personas[1].label: persona 'big' has another label in personas[0]"),
    (lambda d: d["actions"].append({"stage": "closing", "action": "x"}), "actions[1].stage: unknown stage 'closing'"),
    (lambda d: d["actions"].append({"crm": "pipedrive", "action": "x"}), "actions[1].crm: unknown CRM 'pipedrive'"),
    (lambda d: d["actions"].append({"stalled": "yes", "action": "x"}), "actions[1].stalled: must be true or false"),
    (lambda d: d["actions"].append({"stage": "decision"}), "actions[1].action: is required"),
    (lambda d: d.update(colour="blue"), "colour: unknown key"),
    (lambda d: d.update(stages="awareness"), "stages: must be a list"),
])
def test_each_rule_reports_its_path(change, expected):
    data = base_data()
    change(data)
    assert messages(data) == [expected]


def test_a_bad_stage_key_also_breaks_the_references_to_it():
    data = base_data()
    data["stages"][1]["key"] = "Decision"
    assert messages(data)[1:] == ["actions[0].stage: unknown stage 'decision'"]


def test_actions_may_name_exits_and_the_default_persona():
    data = base_data()
    data["actions"] += [{"stage": "lost", "persona": "general", "crm": "salesforce", "action": "Nurture"}]
    assert messages(data) == []


def test_a_persona_may_have_several_rules_with_the_same_label():
    data = base_data()
    data["personas"].append({"key": "big", "label": "Big",
                             "when": [{"field": "employee_count", "op": "gt", "value": 9}]})
    assert messages(data) == []


def test_raw_crm_fields_are_accepted_in_conditions():
    data = base_data()
    data["personas"][0]["when"] = [{"field": "crm.Rating", "op": "in", "value": ["Hot", "Warm"]}]
    assert messages(data) == []


def test_non_mapping_data_is_one_problem():
    assert messages(["version", 1]) == ["the map must be a mapping with version, name, stages, ..."]


def test_problems_in_broken_sections_do_not_hide_others():
    data = base_data()
    data["stages"][1] = "decision"
    data["actions"][0]["persona"] = "nobody"
    assert messages(data) == ["stages[1]: must be a mapping", "actions[0].stage: unknown stage 'decision'",
                              "actions[0].persona: unknown persona 'nobody'"]


@pytest.mark.parametrize("text", [MANY_ERRORS, "version: 1\nname: x\nstages:\n  - key: a\n   label: [unclosed\n",
                                  "version: 1\nname: x\x00\n", SMALL_MAP_YAML + "name: Again\n"],
                         ids=["many", "malformed", "control", "duplicate"])
def test_pure_python_and_libyaml_readers_report_the_same(text, monkeypatch):
    found = []
    for loader in (yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        monkeypatch.setattr(yamldoc, "_LOADER", loader)
        found.append([(p.path, p.line, p.message.split(":")[0]) for p in problems_of(text)])
    assert found[0] == found[1]
