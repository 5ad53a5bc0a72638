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
