"""The Salesforce DX metadata and the HubSpot project agree with the service: same fields, the
default map's picklist values in map order, a card on deals and contacts."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from connectors.salesforce.provision import FIELD_SPECS, formula_specs
from connectors.salesforce.settings import DEFAULT_FIELD_NAMES
from mapping import default_map, writeback_choices
from tests.npm_projects import ROOT

NS = {"md": "http://soap.sforce.com/2006/04/metadata"}
SOURCE = ROOT / "crm-apps" / "salesforce" / "force-app" / "main" / "default"
HUBSPOT = ROOT / "crm-apps" / "hubspot"
#: Fields beyond the write-back fields: formulas Salesforce computes (``journey provision`` creates
#: the same ones).
FORMULAS = set(formula_specs(DEFAULT_FIELD_NAMES))


def field(sobject: str, name: str) -> ET.Element:
    return ET.parse(SOURCE / "objects" / sobject / "fields" / f"{name}.field-meta.xml").getroot()


@pytest.mark.parametrize("sobject", ["Opportunity", "Lead", "Contact"])
def test_each_object_carries_every_write_back_field_and_the_day_formulas(sobject):
    names = {p.name.removesuffix(".field-meta.xml") for p in (SOURCE / "objects" / sobject / "fields").iterdir()}
    assert names == set(DEFAULT_FIELD_NAMES.values()) | FORMULAS
    for canonical, name in DEFAULT_FIELD_NAMES.items():
        root = field(sobject, name)
        assert root.findtext("md:label", namespaces=NS) == FIELD_SPECS[canonical].label
        assert root.findtext("md:type", namespaces=NS) == FIELD_SPECS[canonical].metadata["type"]
    for name, spec in formula_specs(DEFAULT_FIELD_NAMES).items():
        root = field(sobject, name)
        assert root.findtext("md:label", namespaces=NS) == spec.label
        for key in ("type", "formula", "formulaTreatBlanksAs", "precision", "scale"):
            assert root.findtext(f"md:{key}", namespaces=NS) == str(spec.metadata[key]), key


@pytest.mark.parametrize("canonical", ["journey_stage", "persona"])
def test_picklists_are_restricted_to_the_default_maps_values_in_map_order(canonical):
    for sobject in ("Opportunity", "Lead", "Contact"):
        root = field(sobject, DEFAULT_FIELD_NAMES[canonical])
        assert root.findtext("md:valueSet/md:restricted", namespaces=NS) == "true"
        values = [(v.findtext("md:fullName", namespaces=NS), v.findtext("md:label", namespaces=NS))
                  for v in root.findall("md:valueSet/md:valueSetDefinition/md:value", NS)]
        assert values == writeback_choices(default_map())[canonical]


def test_the_permission_set_grants_the_integration_user_every_field():
    root = ET.parse(SOURCE / "permissionsets" / "Journey_Sync_Integration.permissionset-meta.xml").getroot()
    grants = {p.findtext("md:field", namespaces=NS): (p.findtext("md:readable", namespaces=NS),
                                                     p.findtext("md:editable", namespaces=NS))
              for p in root.findall("md:fieldPermissions", NS)}
    for sobject in ("Opportunity", "Lead", "Contact"):
        for name in DEFAULT_FIELD_NAMES.values():
            assert grants[f"{sobject}.{name}"] == ("true", "true")
        for name in FORMULAS:
            assert grants[f"{sobject}.{name}"] == ("true", "false")


def test_the_hubspot_project_declares_a_card_for_deals_and_contacts():
    project = json.loads((HUBSPOT / "hsproject.json").read_text())
    assert project["platformVersion"] in ("2025.2", "2026.03") and project["srcDir"] == "src"
    card = json.loads((HUBSPOT / "src" / "app" / "cards" / "journey-card-hsmeta.json").read_text())
    assert card["type"] == "card" and card["config"]["objectTypes"] == ["deals", "contacts"]
    assert (HUBSPOT / "src" / "app" / card["config"]["entrypoint"].removeprefix("/app/")).is_file()
    app = json.loads((HUBSPOT / "src" / "app" / "app-hsmeta.json").read_text())
    config = (HUBSPOT / "src" / "app" / "cards" / "config.js").read_text()
    # hubspot.fetch() only reaches origins the app lists
    assert all(url in config for url in app["config"]["permittedUrls"]["fetch"])
