"""Persona conditions: every operator, canonical and raw CRM fields, first match wins."""
from __future__ import annotations

from dataclasses import replace

import pytest

from mapping import Condition, default_map, map_from_dict, map_to_dict
from mapping.persona import condition_holds, field_value, match_persona
from tests.mapping.helpers import opportunity, small_map


@pytest.mark.parametrize("op, value, actual, holds", [
    ("eq", "Manufacturing", "manufacturing", True),
    ("eq", "Manufacturing", "Retail", False),
    ("eq", 5000, "5000", True),
    ("eq", 5000, 5000.0, True),
    ("eq", True, "true", True),
    ("eq", True, "false", False),
    ("eq", False, False, True),
    ("eq", "x", None, False),
    ("ne", "Retail", "Manufacturing", True),
    ("ne", "Retail", "retail", False),
    ("ne", "Retail", None, True),
    ("lt", 50, 49, True),
    ("lt", 50, 50, False),
    ("lte", 50, 50, True),
    ("gt", 1000, "1200", True),
    ("gt", 1000, 1000, False),
    ("gte", 1000, 1000, True),
    ("gte", 1000, None, False),
    ("gte", 1000, "many", False),
    ("gte", 1, True, False),
    ("in", ["DE", "AT"], "de", True),
    ("in", ["DE", "AT"], "FR", False),
    ("in", ["DE", "AT"], None, False),
    ("not_in", ["DE", "AT"], "FR", True),
    ("not_in", ["DE", "AT"], "AT", False),
    ("not_in", ["DE", "AT"], None, True),
    ("contains", "director", "Sales Director EMEA", True),
    ("contains", ["vp", "chief"], "Chief Revenue Officer", True),
    ("contains", ["vp", "chief"], "Engineer", False),
    ("contains", "web", ["Email", "Web"], True),
    ("contains", "web", None, False),
    ("contains", "5", 5, False),
    ("exists", True, "x", True),
    ("exists", True, "", False),
    ("exists", True, None, False),
    ("exists", False, None, True),
    ("exists", None, 0, True),
])
def test_operators(op, value, actual, holds):
    assert condition_holds(Condition(field="amount", op=op, value=value), actual) is holds


def test_field_value_reads_canonical_and_raw_crm_fields():
    record = opportunity("Prospecting", fields={"industry": "Retail"}, raw={"Rating": "Hot"})
    assert field_value(record, "industry") == "Retail"
    assert field_value(record, "crm.Rating") == "Hot"
    assert field_value(record, "crm.Missing") is None
    assert field_value(record, "country") is None


@pytest.mark.parametrize("fields, title, expected", [
    ({"amount": 250000, "employee_count": 10}, None, "enterprise_buyer"),
    ({"amount": None, "employee_count": 5000}, None, "enterprise_buyer"),
    ({"amount": 9000}, "CTO", "small_buyer"),
    ({"employee_count": 20}, None, "small_buyer"),
    ({"amount": 40000}, "VP Operations", "time_pressed_professional"),
    ({"amount": 40000}, "Engineer", "general"),
    ({}, None, "general"),
])
def test_default_map_personas_first_match_wins(fields, title, expected):
    jmap = default_map()
    record = opportunity("Prospecting", fields={**fields, "job_title": title})
    assert match_persona(record, jmap) == expected


def test_all_conditions_of_a_rule_must_hold():
    data = map_to_dict(small_map())
    data["personas"][0]["when"] = [{"field": "amount", "op": "gte", "value": 100000},
                                   {"field": "crm.Type", "op": "eq", "value": "New Customer"}]
    both = map_from_dict(data)
    record = opportunity("Prospecting", fields={"amount": 200000}, raw={"Type": "Renewal"})
    assert match_persona(record, both) == "general"
    assert match_persona(replace(record, raw={"Type": "New Customer"}), both) == "big"
