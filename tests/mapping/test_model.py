"""Map helpers: lookups, labels, positions and which source classifies a record."""
from __future__ import annotations

import pytest

from tests.mapping.helpers import small_map


def test_lookup_uses_the_pipeline_mapping_then_the_shared_stages():
    jmap = small_map()
    assert jmap.lookup("hubspot", "deal", "contractsent", "default") == "decision"
    assert jmap.lookup("hubspot", "deal", "closedlost", "default") == "lost"
    assert jmap.lookup("hubspot", "deal", "closedlost", "renewals") == "awareness"
    assert jmap.lookup("hubspot", "deal", "contractsent", "renewals") is None
    assert jmap.lookup("hubspot", "deal", "contractsent", None) is None


def test_lookup_of_unknown_values_and_sources_is_none():
    jmap = small_map()
    assert jmap.lookup("salesforce", "opportunity", "Closed Won") is None
    assert jmap.lookup("salesforce", "opportunity", None) is None
    assert jmap.lookup("salesforce", "lead", "Prospecting") is None
    assert jmap.lookup("pipedrive", "deal", "won") is None


def test_stage_positions_labels_and_expected_days():
    jmap = small_map()
    assert jmap.stage_keys == ("awareness", "consideration", "decision")
    assert [jmap.stage_index(key) for key in ("awareness", "decision", "lost", "unmapped")] == [0, 2, None, None]
    assert [jmap.label(key) for key in ("consideration", "lost", "unmapped")] == ["Consideration", "Lost", "Unmapped"]
    assert [jmap.expected_days(key) for key in ("awareness", "decision", "lost")] == [10, None, None]
    assert jmap.is_exit("lost") and not jmap.is_exit("decision")
    with pytest.raises(KeyError):
        jmap.label("nowhere")


def test_persona_labels_include_the_default_persona():
    jmap = small_map()
    assert jmap.persona_label("big") == "Big buyer"
    assert jmap.persona_label("general") == "General"
    assert jmap.persona_keys == {"big", "general"}


def test_a_record_following_another_object_uses_its_own_source_when_the_map_has_one():
    jmap = small_map()
    assert jmap.source("salesforce", "contact", "opportunity") is jmap.sources["salesforce"]["opportunity"]
    assert jmap.source("salesforce", "contact") is None
    assert jmap.source("salesforce", "opportunity", "contact") is jmap.sources["salesforce"]["opportunity"]
