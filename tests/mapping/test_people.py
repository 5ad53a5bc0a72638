"""People and deals across CRMs: linking rules and the person's journey stage."""
from __future__ import annotations

import pytest

from mapping import map_from_dict, map_to_dict, parse_map, map_to_yaml
from mapping.people import LinkItem, groups_of, link_records, normalize_email, person_state
from mapping.model import PeopleRule
from mapping.records import CrmRecord, Identity, RecordRef
from mapping.serialize import record_from_dict, record_to_dict
from tests.mapping.helpers import NOW, days_ago, opportunity, small_map


def person(key: str, crm: str, obj: str, email: str | None, *same_as: RecordRef) -> LinkItem:
    return LinkItem(key, crm, obj, key.split(":")[-1], Identity("person", email, tuple(same_as)))


def test_same_email_links_whatever_the_case_and_spaces():
    links = link_records([person("1:contact:003A", "salesforce", "contact", "Ana@Globex.example"),
                          person("2:contact:151", "hubspot", "contact", "  ana@globex.EXAMPLE "),
                          person("2:contact:152", "hubspot", "contact", "bo@globex.example")])
    assert groups_of(links) == {"1:contact:003A": ["1:contact:003A", "2:contact:151"],
                                "2:contact:152": ["2:contact:152"]}
    # the pass gathers only people of several records (most records stand alone)
    assert groups_of(links, shared_only=True) == {"1:contact:003A": ["1:contact:003A", "2:contact:151"]}


def test_an_explicit_crm_id_wins_over_the_email():
    links = link_records([
        person("1:contact:003A", "salesforce", "contact", "ana@globex.example"),
        person("1:lead:00QB", "salesforce", "lead", "ana.silva@home.example"),
        person("2:contact:151", "hubspot", "contact", "ana@globex.example",
               RecordRef("salesforce", "lead", "00QB")),
    ])
    assert links["2:contact:151"] == links["1:lead:00QB"]
    assert links["1:contact:003A"] != links["1:lead:00QB"]


def test_an_id_naming_an_unknown_record_falls_back_to_the_email():
    links = link_records([
        person("1:contact:003A", "salesforce", "contact", "ana@globex.example"),
        person("2:contact:151", "hubspot", "contact", "ana@globex.example",
               RecordRef("salesforce", "contact", "003GONE")),
    ])
    assert links["2:contact:151"] == links["1:contact:003A"]


def test_email_linking_can_be_switched_off_and_deals_link_only_by_id():
    items = [person("1:contact:003A", "salesforce", "contact", "a@x.example"),
             person("2:contact:151", "hubspot", "contact", "a@x.example"),
             LinkItem("1:opportunity:006A", "salesforce", "opportunity", "006A", Identity("deal")),
             LinkItem("2:deal:5001", "hubspot", "deal", "5001",
                      Identity("deal", None, (RecordRef("salesforce", "opportunity", "006A"),))),
             LinkItem("2:deal:5002", "hubspot", "deal", "5002", Identity("deal"))]
    links = link_records(items, PeopleRule(link_by_email=False))
    assert links["1:contact:003A"] != links["2:contact:151"]
    assert links["2:deal:5001"] == links["1:opportunity:006A"] != links["2:deal:5002"]


def test_a_person_and_a_deal_never_link():
    links = link_records([
        LinkItem("1:opportunity:006A", "salesforce", "opportunity", "006A", Identity("deal")),
        person("2:contact:151", "hubspot", "contact", None, RecordRef("salesforce", "opportunity", "006A")),
    ])
    assert links["2:contact:151"] != links["1:opportunity:006A"]


def test_normalize_email():
    assert normalize_email("  A@B.Example ") == "a@b.example"
    assert normalize_email("   ") is None and normalize_email(None) is None


def test_the_person_takes_the_furthest_stage_and_its_persona_and_action():
    early = opportunity("Prospecting", ("Prospecting", 3), id="006A")
    far = opportunity("Qualification", ("Qualification", 30), id="006B", fields={"amount": 200000})
    state = person_state([early, far], small_map(), NOW)
    assert (state.id, state.stage, state.entered_at, state.persona) == ("006B", "consideration", days_ago(30), "big")
    assert state.stalled and state.next_best_action == "Re-engage"


def test_on_a_tie_the_first_to_enter_leads():
    a = opportunity("Qualification", ("Qualification", 5), id="006A")
    b = opportunity("Needs Analysis", ("Needs Analysis", 9), id="006B")
    assert person_state([a, b], small_map(), NOW).id == "006B"


def test_an_exit_counts_only_when_every_record_is_in_one():
    lost = opportunity("Closed Lost", ("Closed Lost", 1), id="006A")
    open_ = opportunity("Prospecting", ("Prospecting", 40), id="006B")
    assert person_state([lost, open_], small_map(), NOW).stage == "awareness"
    older_lost = opportunity("Closed Lost", ("Closed Lost", 50), id="006C")
    assert person_state([lost, older_lost], small_map(), NOW).id == "006A"


def test_unplaced_records_are_left_out():
    unmapped = opportunity("Renamed Stage", ("Renamed Stage", 1), id="006A")
    placed = opportunity("Prospecting", ("Prospecting", 2), id="006B")
    assert person_state([unmapped, placed], small_map(), NOW).id == "006B"
    assert person_state([unmapped], small_map(), NOW) is None


def test_the_latest_rule_takes_the_stage_entered_last():
    data = map_to_dict(small_map())
    data["people"] = {"stage": "latest"}
    jmap = map_from_dict(data)
    recent = opportunity("Prospecting", ("Prospecting", 2), id="006A")
    far = opportunity("Proposal", ("Proposal", 30), id="006B")
    assert person_state([recent, far], jmap, NOW).id == "006A"
    assert parse_map(map_to_yaml(jmap)) == jmap


def test_the_people_rule_is_validated_with_its_path():
    data = map_to_dict(small_map())
    data["people"] = {"stage": "loudest"}
    with pytest.raises(Exception) as info:
        map_from_dict(data)
    assert "people.stage" in str(info.value)
    assert small_map().people is None and small_map().people_rule == PeopleRule()


def test_identity_survives_the_store_round_trip():
    record = opportunity("Prospecting", id="006A")
    linked = CrmRecord(**{**{f: getattr(record, f) for f in record.__slots__},
                          "identity": Identity("person", "a@x.example",
                                               (RecordRef("salesforce", "lead", "00Q1"),))})
    assert record_from_dict(record_to_dict(linked)) == linked
    assert record_from_dict(record_to_dict(record)).identity is None
