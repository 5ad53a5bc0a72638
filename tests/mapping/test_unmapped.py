"""Why a record is not on the map: no source for its object, no stage value, a stage the map
does not name, or one the map names since the record was classified."""
from __future__ import annotations

import pytest

from connectors import registry
from mapping import parse_map
from mapping.unmapped import NAMED_SINCE, NO_SOURCE, NO_STAGE, STAGE_NOT_NAMED, unmapped_reason
from tests.mapping.helpers import SMALL_MAP_YAML

JMAP = parse_map(SMALL_MAP_YAML)


@pytest.mark.parametrize("crm, source, value, pipeline, reason", [
    ("salesforce", "lead", "Open", None, NO_SOURCE),          # the small map has no lead source
    ("pipedrive", "deal", "won", None, NO_SOURCE),
    ("salesforce", "opportunity", None, None, NO_STAGE),      # e.g. a contact with no contact role
    ("salesforce", "opportunity", "Negotiation", None, STAGE_NOT_NAMED),
    ("hubspot", "deal", "123", "default", STAGE_NOT_NAMED),   # named in another pipeline only
    ("hubspot", "deal", "123", "renewals", NAMED_SINCE),
    ("salesforce", "opportunity", "Proposal", None, NAMED_SINCE),
])
def test_reasons(crm, source, value, pipeline, reason):
    assert unmapped_reason(JMAP, crm, source, value, pipeline) == reason


def test_the_crm_plug_in_explains_a_missing_stage_in_its_own_terms():
    salesforce = registry.spec("salesforce")
    assert "contact role" in salesforce.stage_hint("contact", "opportunity").why
    assert "contact_stage_field" in salesforce.stage_hint("contact", "contact").why
    assert "Status" in salesforce.stage_hint("lead", "lead").why
    assert salesforce.stage_hint("opportunity", "opportunity") is None
    assert "lifecycle stage" in registry.spec("hubspot").stage_hint("contact", "contact").why
