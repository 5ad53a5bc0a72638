"""The dashboard's period filter and drill-down, and the journeys page, in a real Chromium against
the running service (the demo book)."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from integration.store.types import utcnow
from tests.browser.test_journeys import api, funnel_reached

pytestmark = pytest.mark.browser


def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def api_reached(live, conn_id, stage_index, **params):
    stages = api(live, "GET", f"connections/{conn_id}/analytics/funnel", params=params)["stages"]
    return stages[stage_index]["reached"]


def test_the_period_filter_narrows_the_dashboard_like_the_api(page, live_service):
    conn_id = live_service["connections"]["hubspot"]
    page.goto(f"/connections/{conn_id}/dashboard")
    everyone = funnel_reached(page, "Awareness")
    assert everyone == api_reached(live_service, conn_id, 0)

    with page.expect_navigation():
        page.select_option("#period", "90d")
    assert query(page.url)["period"] == "90d"
    today = utcnow().date()
    recent = api_reached(live_service, conn_id, 0, **{"from": str(today - timedelta(days=89)), "to": str(today)})
    assert funnel_reached(page, "Awareness") == recent < everyone
    assert "Last 90 days" in page.inner_text(".period-note")

    # Custom dates: the date fields appear, and apply with the button.
    page.select_option("#period", "custom")
    page.locator(".custom-dates").wait_for(state="visible")
    first, last = today - timedelta(days=400), today - timedelta(days=60)
    page.fill('input[name="from"]', str(first))
    page.fill('input[name="to"]', str(last))
    with page.expect_navigation():
        page.click("#filters button.apply")
    assert query(page.url) | {"sort": "days_over"} == {"period": "custom", "from": str(first), "to": str(last),
                                                        "sort": "days_over"}
    assert funnel_reached(page, "Awareness") == api_reached(
        live_service, conn_id, 0, **{"from": str(first), "to": str(last)})

    # A filter keeps the period; the owner menu lists names.
    owners = page.locator('select[name="owner"] option').all_inner_texts()
    assert owners[0] == "all" and not any(o.isdigit() for o in owners[1:])
    with page.expect_navigation():
        page.select_option('select[name="object"]', "deal")
    assert query(page.url)["object"] == "deal" and query(page.url)["period"] == "custom"
    assert funnel_reached(page, "Awareness") == api_reached(
        live_service, conn_id, 0, object="deal", **{"from": str(first), "to": str(last)})


def test_a_click_on_a_funnel_bar_opens_the_records_of_that_stage(page, live_service, shot):
    conn_id = live_service["connections"]["hubspot"]
    page.goto(f"/connections/{conn_id}/dashboard?period=365d&object=deal")
    bar = page.locator("#funnel a.drill", has=page.locator("text.label", has_text=re.compile("^Consideration$")))
    with page.expect_navigation():
        bar.click()
    assert urlsplit(page.url).path == f"/connections/{conn_id}/records"
    asked = query(page.url)
    assert (asked["stage"], asked["object"], asked["period"]) == ("consideration", "deal", "365d")
    stages = set(page.locator("#records-table tbody tr td:nth-child(3)").all_inner_texts())
    expected = api(live_service, "GET", f"connections/{conn_id}/records", params={
        "stage": "consideration", "object": "deal", "from": asked["from"], "to": asked["to"]})["records"]
    assert stages == ({"Consideration"} if expected else set())
    assert page.locator("#records-table tbody tr").count() == min(len(expected), 50)

    # Time in stage drills down to the stage's stalled records.
    page.goto(f"/connections/{conn_id}/dashboard")
    with page.expect_navigation():
        page.locator("#time-in-stage a.drill").first.click()
    assert query(page.url)["stalled"] == "true" and query(page.url)["stage"] == "awareness"


def test_kpis_and_the_journeys_page(page, live_service, shot):
    conn_id = live_service["connections"]["hubspot"]
    page.goto(f"/connections/{conn_id}/dashboard")
    kpis = api(live_service, "GET", f"connections/{conn_id}/analytics/kpis")["stages"]
    missed = sum(bool(k["conversion_missed"]) + bool(k["median_days_missed"]) for k in kpis)
    assert page.locator("#kpi-table td.missed").count() == missed
    red = page.locator("#kpi-table td.missed").first
    if missed:
        assert red.evaluate("el => getComputedStyle(el).color") == "rgb(179, 38, 30)"
    shot(page, "dashboard-kpis")
    with page.expect_navigation():
        page.click("#journeys-link")
    page.wait_for_selector("#trend-table")
    assert page.locator("#path-table tbody tr").count() >= 1
    with page.expect_navigation():
        page.click("#trends .switch a:has-text('Weekly')")
    assert query(page.url)["unit"] == "week"
    page.click("#trends .switch a:has-text('Monthly')")
    page.wait_for_url(re.compile("unit=month"))
    shot(page, "journeys")


def workspace_counts(page, unit):
    """The figures the workspace funnel of ``unit`` writes beside its bars, in stage order."""
    texts = page.locator(f"#funnel-{unit} svg.chart").first.locator("text.value").all_text_contents()
    return [int(t.split()[0].replace(",", "")) for t in texts]


def test_the_workspace_funnel_takes_the_period_filters_and_funnel_types(page, live_service, shot):
    page.goto("/workspace")
    everyone = api(live_service, "GET", "analytics/funnel", params={"unit": "people"})["stages"]
    assert workspace_counts(page, "people") == [s["reached"] for s in everyone]

    with page.expect_navigation():
        page.select_option("#period", "90d")
    today = utcnow().date()
    dates = {"from": str(today - timedelta(days=89)), "to": str(today)}
    recent = api(live_service, "GET", "analytics/funnel", params={"unit": "people", **dates})["stages"]
    assert workspace_counts(page, "people") == [s["reached"] for s in recent]
    assert recent[0]["reached"] < everyone[0]["reached"]

    with page.expect_navigation():
        page.select_option('select[name="crm"]', "salesforce")
    with page.expect_navigation():
        page.click("#funnel-type .switch a:has-text('Strict order')")
    assert {k: v for k, v in query(page.url).items() if v} == {"period": "90d", "crm": "salesforce", "funnel": "strict"}
    strict = api(live_service, "GET", "analytics/funnel",
                 params={"unit": "deals", "crm": "salesforce", "funnel": "strict", **dates})["stages"]
    assert workspace_counts(page, "deals") == [s["count"] for s in strict]
    assert "in order" in page.inner_text("#funnel-definition")
    # a filter chosen now keeps the funnel type
    with page.expect_navigation():
        page.select_option("#period", "365d")
    assert query(page.url)["funnel"] == "strict"


def test_a_workspace_bar_opens_the_records_behind_it(page, live_service, shot):
    page.goto("/workspace?period=365d")
    shot(page, "workspace")
    bar = page.locator("#funnel-deals a.drill", has=page.locator("text.label", has_text=re.compile("^Consideration$"))).first
    with page.expect_navigation():
        bar.click()
    if urlsplit(page.url).path == "/workspace/records":
        # both CRMs hold deals there: one list per CRM, each with the same choice
        assert page.locator("#workspace-lists li").count() == 2
        shot(page, "workspace-records", full_page=False)
        holding = page.locator("#workspace-lists li", has_not_text=re.compile(r" 0 record\(s\)"))
        with page.expect_navigation():
            holding.first.locator("a").click()
    assert re.fullmatch(r"/connections/\d+/records", urlsplit(page.url).path)
    asked = query(page.url)
    assert (asked["stage"], asked["period"]) == ("consideration", "365d")
    stages = set(page.locator("#records-table tbody tr td:nth-child(3)").all_inner_texts())
    assert stages == {"Consideration"}


def test_stalled_bars_by_owner_open_that_owner_s_stalled_records(page, live_service):
    conn_id = live_service["connections"]["hubspot"]
    page.goto(f"/connections/{conn_id}/dashboard")
    bar = page.locator("#stalled-summary a.drill[href*='owner=']").first
    # the click area lies under the bar and its words, not over them
    assert bar.locator("rect.hit").evaluate("el => getComputedStyle(el).fill") in ("none", "rgba(0, 0, 0, 0)", "transparent")
    owner_name = bar.locator("text.label").text_content()
    count = int(bar.locator("text.value").text_content().replace(",", ""))
    with page.expect_navigation():
        bar.click()
    asked = query(page.url)
    assert asked["stalled"] == "true" and asked["owner"]
    assert page.inner_text("#list-summary").startswith(f"{count:,} record(s)")
    owners = set(page.locator("#records-table tbody tr td:nth-child(5)").all_inner_texts())
    assert owners == {owner_name}
