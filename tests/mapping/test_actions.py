"""Next best action rules: first match wins, left-out keys match anything."""
from __future__ import annotations

from dataclasses import replace

from mapping import map_from_dict, map_to_dict
from mapping.actions import next_best_action
from tests.mapping.helpers import opportunity, small_map


def map_with_actions(*actions):
    data = map_to_dict(small_map())
    data["actions"] = list(actions)
    return map_from_dict(data)


def test_object_matches_the_records_own_object():
    jmap = map_with_actions({"object": "contact", "action": "Email the contact"}, {"action": "Call"})
    deal = opportunity("Qualification")
    contact = replace(deal, object="contact", stage_object="opportunity")
    assert next_best_action(jmap, contact, "consideration", "general", False) == "Email the contact"
    assert next_best_action(jmap, deal, "consideration", "general", False) == "Call"


def test_the_first_matching_rule_wins_and_every_given_key_must_match():
    jmap = map_with_actions(
        {"stage": "decision", "persona": "big", "stalled": False, "crm": "salesforce", "action": "A"},
        {"stage": "decision", "stalled": False, "action": "B"},
        {"stage": "decision", "action": "C"},
    )
    record = opportunity("Proposal")
    assert next_best_action(jmap, record, "decision", "big", False) == "A"
    assert next_best_action(jmap, record, "decision", "general", False) == "B"
    assert next_best_action(jmap, record, "decision", "big", True) == "C"
    assert next_best_action(jmap, replace(record, crm="hubspot"), "decision", "big", False) == "B"
    assert next_best_action(jmap, record, "awareness", "big", False) is None
