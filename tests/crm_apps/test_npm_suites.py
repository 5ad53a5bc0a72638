"""The HubSpot app card and the Salesforce component are tested by their own npm suites
(@hubspot/ui-extensions/testing under vitest; @salesforce/sfdx-lwc-jest); these run them."""
from __future__ import annotations

import re

from tests.npm_projects import ROOT, run_npm_tests

HUBSPOT_CARDS = ROOT / "crm-apps" / "hubspot" / "src" / "app" / "cards"
SALESFORCE = ROOT / "crm-apps" / "salesforce"


def passed(output: str) -> int:
    """How many tests the runner reports as passed (vitest and jest both say 'Tests: N passed')."""
    found = re.search(r"Tests:?\s+(\d+) passed", output)
    return int(found.group(1)) if found else 0


def test_the_hubspot_app_card_suite_passes():
    assert passed(run_npm_tests(HUBSPOT_CARDS)) >= 8


def test_the_salesforce_component_suite_passes():
    assert passed(run_npm_tests(SALESFORCE)) >= 5
