"""The connector's read side against the sandbox: records, history, contacts, paging, incremental."""
from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta, timezone

import pytest

from connectors.actions import Action
from connectors.base import ConfigError, Connector, CrmError
from connectors.salesforce import SPEC, SalesforceConnector, query_pages
from mapping.records import StageChange
from tests.fixtures_salesforce import (
    CONTACT_LI, CONTACT_MIA, LEAD_ANA, OPP_ACME, OPP_GLOBEX, OPP_WON, OWNER, sf_control, sf_seed, sf_settings,
)
from tests.salesforce.helpers import simple_sf

UTC = timezone.utc
FAST = {"retry_wait_seconds": 0.01, "retry_max_wait_seconds": 0.05}


def _by_id(records):
    return {r.id: r for r in records}


def test_the_connector_fulfils_the_protocol_and_its_spec(sf_sandbox):
    connector = SPEC.factory(sf_settings(sf_sandbox), None)
    assert isinstance(connector, Connector) and isinstance(connector, SalesforceConnector)
    assert (connector.crm, connector.write_batch_size, list(connector.objects())) == (
        "salesforce", 1000, ["opportunity", "lead", "contact"])
    assert connector.record_url("opportunity", OPP_ACME) == (
        f"{sf_sandbox.instance_url}/lightning/r/Opportunity/{OPP_ACME}/view")
    assert {s.name for s in SPEC.settings if s.secret} == {"access_token", "refresh_token", "client_secret"}


def test_full_pull_maps_every_object(sf_sandbox):
    connector = SalesforceConnector(sf_settings(sf_sandbox))
    records = _by_id(connector.pull())
    assert set(records) == {OPP_ACME, OPP_GLOBEX, OPP_WON, LEAD_ANA, CONTACT_LI, CONTACT_MIA}
    acme = records[OPP_ACME]
    assert (acme.crm, acme.object, acme.stage_value, acme.pipeline, acme.name) == (
        "salesforce", "opportunity", "Negotiation/Review", None, "Acme - Platform")
    assert acme.history == (
        StageChange("Prospecting", datetime(2026, 8, 1, 9, tzinfo=UTC)),
        StageChange("Qualification", datetime(2026, 8, 20, 15, 30, tzinfo=UTC)),
        StageChange("Negotiation/Review", datetime(2026, 9, 28, 11, tzinfo=UTC)))
    assert acme.stage_entered_at == datetime(2026, 9, 28, 11, tzinfo=UTC)
    assert acme.created_at == datetime(2026, 8, 1, 9, tzinfo=UTC)
    assert acme.modified_at == datetime(2026, 9, 28, 11, tzinfo=UTC)
    assert dict(acme.fields) == {"amount": 180000.0, "industry": "Manufacturing", "employee_count": 5200,
                                 "job_title": None, "lead_source": "Web", "country": "Germany", "owner_id": OWNER,
                                 "company": "Acme Corp"}
    assert acme.raw["Type"] == "New Customer" and acme.raw["Account.Name"] == "Acme Corp"
    assert dict(acme.writeback) == {"journey_stage": None, "persona": None, "next_best_action": None,
                                    "stalled": False, "stage_entered_at": None, "stalls_at": None,
                              "journey_updated_at": None}
    globex = records[OPP_GLOBEX]
    assert globex.history == (StageChange("Prospecting", datetime(2026, 10, 1, 10, tzinfo=UTC)),)
    assert globex.stage_entered_at is None
    lead = records[LEAD_ANA]
    assert (lead.object, lead.stage_value, lead.history, lead.source_object) == (
        "lead", "Working - Contacted", (), "lead")
    assert dict(lead.fields) == {"amount": None, "industry": "Retail", "employee_count": 300,
                                 "job_title": "VP Operations", "lead_source": "Webinar", "country": "Brazil",
                                 "owner_id": sf_sandbox.info()["user_id"], "company": "Initech"}


def test_contacts_follow_their_most_recently_modified_opportunity(sf_sandbox):
    records = _by_id(SalesforceConnector(sf_settings(sf_sandbox)).pull(ids={"contact": [CONTACT_LI, CONTACT_MIA]}))
    li = records[CONTACT_LI]
    assert (li.stage_object, li.stage_value) == ("opportunity", "Negotiation/Review")
    assert [h.value for h in li.history] == ["Prospecting", "Qualification", "Negotiation/Review"]
    assert li.fields["job_title"] == "CTO" and li.fields["industry"] == "Manufacturing"
    assert li.fields["company"] == "Acme Corp"  # the contact's account
    mia = records[CONTACT_MIA]
    assert (mia.stage_object, mia.stage_value, mia.history) == ("opportunity", None, ())


def test_a_mapped_contact_field_replaces_the_opportunity(make_sf_sandbox):
    seed = sf_seed()
    seed["contacts"][0]["Journey_Contact_Stage__c"] = "Champion"
    sandbox = make_sf_sandbox(seed)
    connector = SalesforceConnector(sf_settings(sandbox, contact_stage_field="Journey_Contact_Stage__c"))
    li = _by_id(connector.pull(ids={"contact": [CONTACT_LI]}))[CONTACT_LI]
    assert (li.stage_object, li.stage_value, li.history) == ("contact", "Champion", ())


@pytest.fixture(scope="module")
def big_box(make_sf_sandbox):
    seed = sf_seed()
    seed["opportunities"] += [
        {"Name": f"Bulk {i:04d}", "StageName": "Qualification", "CloseDate": "2027-01-01", "Amount": i,
         "CreatedDate": "2026-01-01T00:00:00Z",
         "history": [{"StageName": "Prospecting", "CreatedDate": "2026-01-01T00:00:00Z"},
                     {"StageName": "Qualification", "CreatedDate": "2026-02-01T00:00:00Z"}]}
        for i in range(2400)]
    seed["opportunities"][0]["history"] = [
        {"StageName": stage, "CreatedDate": f"2026-08-{day:02d}T09:00:00Z"}
        for day, stage in enumerate(["Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
                                     "Qualification", "Negotiation/Review"], start=1)]
    return make_sf_sandbox(seed, child_batch_size=4)


def test_a_full_pull_reads_whole_pages_and_joins_the_history_stream(big_box):
    """Records come 2,000 a page (no history subquery shrinks them); the history of every
    opportunity comes from one OpportunityHistory query joined page by page."""
    connector = SalesforceConnector(sf_settings(big_box))
    sf_control(big_box, "counters/reset", {})
    seen = []
    opportunities = list(connector.pull(ids=None, progress=lambda what, done, total: seen.append((what, done, total))))
    opps = [r for r in opportunities if r.object == "opportunity"]
    assert len(opps) == len({r.id for r in opps}) == 2403
    # 2,403 opportunities: 2 pages; 4,809 history rows: 3 pages; leads, contacts and the
    # history of the opportunities contacts follow: 1 each. The first pages of the four queries
    # the pull opens come in one composite call, the second page of opportunities in its spare
    # slot; the next two history pages in a second; the contacts' history query opens alone, as
    # a plain GET query/.
    assert connector.usage.by_route == {"POST composite sobjects/describe": 1, "POST composite query/": 1,
                                        "POST composite query/{locator}": 1, "GET query/": 1}
    subrequests = sf_control(big_box, "counters")["subrequests"]
    assert (subrequests["GET query/"], subrequests["GET query/{locator}"]) == (4, 3)
    acme = _by_id(opps)[OPP_ACME]
    assert [h.value for h in acme.history] == ["Prospecting", "Qualification", "Needs Analysis",
                                               "Value Proposition", "Qualification", "Negotiation/Review"]
    assert all(len(r.history) == 2 for r in opps if r.name and r.name.startswith("Bulk"))
    opportunity_progress = [p for p in seen if p[0] == "opportunity"]
    assert opportunity_progress == [("opportunity", 2000, 2403), ("opportunity", 2403, 2403)]


def test_incremental_pull_returns_what_changed_since_the_watermark(make_sf_sandbox):
    sandbox = make_sf_sandbox(sf_seed())
    connector = SalesforceConnector(sf_settings(sandbox))
    first = list(connector.pull())
    watermark = max(r.modified_at for r in first)
    assert {r.id for r in connector.pull(watermark)} == {r.id for r in first if r.modified_at == watermark}
    moved = sf_control(sandbox, "move", {"object": "opportunity", "id": OPP_ACME, "stage": "Closed Won"})
    since = datetime.fromisoformat(moved["SystemModstamp"].replace("+0000", "+00:00"))
    changed = _by_id(connector.pull(since - timedelta(seconds=1)))
    assert set(changed) == {OPP_ACME, CONTACT_LI}
    assert changed[OPP_ACME].stage_value == "Closed Won"
    assert changed[OPP_ACME].history[-1].value == "Closed Won"
    assert changed[CONTACT_LI].stage_value == "Closed Won"
    assert {r.id for r in connector.pull(since)} >= {OPP_ACME, CONTACT_LI}
    assert list(connector.pull(since + timedelta(seconds=1))) == []


def test_amount_and_close_date_history_rows_are_not_stage_changes(make_sf_sandbox):
    """A real org writes an OpportunityHistory row on an Amount or CloseDate change too, with the
    stage unchanged; the record's stage history keeps only the moves."""
    sandbox = make_sf_sandbox(sf_seed())
    before = next(r for r in SalesforceConnector(sf_settings(sandbox)).pull() if r.id == OPP_WON)
    sf = simple_sf(sandbox)
    sf.Opportunity.update(OPP_WON, {"Amount": 99999})
    sf.Opportunity.update(OPP_WON, {"CloseDate": "2026-12-31"})
    rows = sf.query(f"SELECT Id FROM OpportunityHistory WHERE OpportunityId = '{OPP_WON}'")["totalSize"]
    assert rows == len(before.history) + 2
    for pulled in (SalesforceConnector(sf_settings(sandbox)).pull(),
                   SalesforceConnector(sf_settings(sandbox)).pull(ids={"opportunity": [OPP_WON]})):
        after = next(r for r in pulled if r.id == OPP_WON)
        assert after.history == before.history and after.stage_entered_at == before.stage_entered_at


def test_pull_by_ids_only_reads_those(sf_sandbox):
    connector = SalesforceConnector(sf_settings(sf_sandbox))
    assert [r.id for r in connector.pull(ids={"opportunity": [OPP_WON], "lead": []})] == [OPP_WON]
    with pytest.raises(ConfigError) as unknown:
        list(connector.pull(ids={"deal": ["1"]}))
    assert "no object kind deal" in unknown.value.message


def test_stages_come_from_the_org(make_sf_sandbox):
    seed = sf_seed()
    seed["opportunity_stages"] = [
        {"MasterLabel": "Discovery", "ApiName": "Discovery", "SortOrder": 1},
        {"MasterLabel": "Negotiation/Review", "SortOrder": 2},
        {"MasterLabel": "Prospecting", "SortOrder": 3},
        {"MasterLabel": "Qualification", "SortOrder": 4},
        {"MasterLabel": "Signed", "ApiName": "Closed Won", "SortOrder": 5, "IsClosed": True, "IsWon": True},
        {"MasterLabel": "Retired", "SortOrder": 6, "IsActive": False},
    ]
    stages = SalesforceConnector(sf_settings(make_sf_sandbox(seed))).stages()
    opportunity = [(s.value, s.label, s.order, s.is_closed, s.is_won) for s in stages if s.object == "opportunity"]
    assert opportunity == [("Discovery", "Discovery", 1, False, False),
                           ("Negotiation/Review", "Negotiation/Review", 2, False, False),
                           ("Prospecting", "Prospecting", 3, False, False),
                           ("Qualification", "Qualification", 4, False, False),
                           ("Closed Won", "Signed", 5, True, True)]
    lead = [(s.value, s.is_closed, s.is_won) for s in stages if s.object == "lead"]
    assert lead == [("Open - Not Contacted", False, False), ("Working - Contacted", False, False),
                    ("Closed - Converted", True, True), ("Closed - Not Converted", True, False)]


def test_bad_settings_are_config_errors_without_secrets():
    with pytest.raises(ConfigError) as info:
        SalesforceConnector({"instance_url": "http://plain.example", "access_token": "00D!SECRET-TOKEN",
                             "quota_share": "2", "field_names": {"persona": "Persona"}, "quota_shar": 1})
    message = info.value.message
    assert "salesforce settings: instance_url: Value error, must be an https:// URL" in message
    assert "salesforce settings: quota_share: Input should be less than or equal to 1" in message
    assert "custom field API names must end in __c: Persona" in message
    assert "salesforce settings: quota_shar: unknown key" in message
    assert "SECRET-TOKEN" not in message
    connector = SalesforceConnector({"instance_url": "https://x.example", "access_token": "00D!SECRET-TOKEN",
                                     "_shared": object()})
    assert "SECRET-TOKEN" not in repr(connector) + repr(connector.settings) + repr(connector.client)


def test_the_describes_of_all_pulled_objects_come_in_one_call(make_sf_sandbox):
    sandbox = make_sf_sandbox(sf_seed())
    connector = SalesforceConnector(sf_settings(sandbox))
    list(connector.pull(ids={"lead": [LEAD_ANA]}))
    assert connector.usage.by_route["POST composite sobjects/describe"] == 1
    assert sf_control(sandbox, "counters")["subrequests"] == {
        "GET sobjects/Lead/describe": 1, "GET sobjects/Opportunity/describe": 1, "GET sobjects/Contact/describe": 1}
    list(connector.pull())  # the three are cached: no describe again
    assert connector.usage.by_route["POST composite sobjects/describe"] == 1


def test_a_lost_query_locator_fails_as_a_plain_query_more_would(big_box):
    connector = SalesforceConnector(sf_settings(big_box, retry_attempts=2, retry_wait_seconds=0.01))
    sf_control(big_box, "faults", {"locator_idle_seconds": 0})  # Salesforce's 15 minutes, gone by
    try:
        pages = connector.client.query("SELECT Id FROM Opportunity ORDER BY Id")
        assert len(next(pages)["records"]) == 2000
        with pytest.raises(CrmError) as lost:
            next(pages)
    finally:
        sf_control(big_box, "faults", {"locator_idle_seconds": 900})
    assert (lost.value.code, lost.value.status, lost.value.action) == ("INVALID_QUERY_LOCATOR", 400, Action.RETRY)
    # retried once, as RETRY says
    assert connector.usage.by_route == {"GET query/": 1, "POST composite query/{locator}": 2}

def test_a_first_page_read_ahead_and_left_past_its_locator_is_read_again(make_sf_sandbox, monkeypatch):
    seed = sf_seed()
    seed["leads"] += [{"FirstName": "Lead", "LastName": str(i), "Company": "Co", "Status": "Open - Not Contacted",
                       "CreatedDate": "2026-02-01T00:00:00Z"} for i in range(2100)]
    sandbox = make_sf_sandbox(seed)
    # Salesforce's 15 minutes and the connector's margin under them, shortened
    sf_control(sandbox, "faults", {"locator_idle_seconds": 1})
    monkeypatch.setattr(query_pages, "IDLE_LOCATOR_SECONDS", 0.5)
    connector = SalesforceConnector(sf_settings(sandbox))
    pulled = connector.pull()
    assert {r.object for r in itertools.islice(pulled, 3)} == {"opportunity"}  # all three
    time.sleep(1.2)  # the locator of the leads' second page, read ahead with their first, is gone
    rest = list(pulled)
    assert sum(r.object == "lead" for r in rest) == 2101 and len({r.id for r in rest}) == len(rest)
    # the first pages of the four queries in one call; the leads' first page again, alone, and
    # their second page; alone, the history of the opportunities the contacts follow
    assert connector.usage.by_route == {"POST composite sobjects/describe": 1, "POST composite query/": 1,
                                        "GET query/": 2, "POST composite query/{locator}": 1}
