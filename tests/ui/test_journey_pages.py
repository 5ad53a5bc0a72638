"""The dashboard's KPIs, funnel types, outcomes and drill-down links, and the journeys page
(trends, cohorts, skipped and repeated stages, paths), against the API's figures."""
from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from integration.store.types import utcnow
from tests.ui.test_dashboard import api, dashboard, section


def page(client, world, path, **params):
    response = client.get(f"/connections/{world.connection_id}/{path}", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def table_rows(fragment, table_id):
    table = re.search(rf'<table class="data" id="{table_id}">(.*?)</table>', fragment, re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>")[1], re.S)]


def test_kpis_show_actuals_against_the_maps_targets_red_when_missed(client, world):
    kpis = api(client, world, "analytics/kpis")["stages"]
    text = section(dashboard(client, world), "kpis")
    rows = table_rows(text, "kpi-table")
    assert [r[0] for r in rows] == [k["label"] for k in kpis]
    for row, kpi in zip(rows, kpis):
        assert row[1] == (kpi["owner"] or "–")
        if kpi["conversion"] is not None:
            assert row[3] == f"{kpi['conversion'] * 100:.0f}%"
        assert row[4] == (f"{kpi['conversion_target']:g}%" if kpi["conversion_target"] is not None else "–")
    missed = sum(bool(k["conversion_missed"]) + bool(k["median_days_missed"]) for k in kpis)
    assert missed > 0 and text.count('class="num missed"') == missed
    assert text.count('class="num met"') == sum(
        (k["conversion_missed"] is False) + (k["median_days_missed"] is False) for k in kpis)


@pytest.mark.parametrize("kind, field", [("reached", "reached"), ("any", "entered"), ("strict", "strict")])
def test_each_funnel_type_draws_its_count(client, world, kind, field):
    funnel = api(client, world, "analytics/funnel")["stages"]
    chart = section(dashboard(client, world, funnel=kind), "funnel")
    values = re.findall(r'<text class="value"[^>]*>([\d,]+)', chart)
    assert [int(v.replace(",", "")) for v in values] == [s[field] for s in funnel]
    assert 'class="on" aria-current="true">' in chart


def test_an_unknown_funnel_type_is_a_clear_error(client, world):
    response = client.get(f"/connections/{world.connection_id}/dashboard?funnel=leaky")
    assert response.status_code == 400 and "Funnel type: one of reached, any, strict" in response.get_data(as_text=True)


def test_funnel_bars_drill_down_to_the_records_of_the_stage_with_the_period_and_filters(client, world):
    today = utcnow().date()
    chart = section(dashboard(client, world, period="90d", object="deal"), "funnel")
    links = [html.unescape(h) for h in re.findall(r'<a class="drill" href="([^"]+)"', chart)]
    funnel = api(client, world, "analytics/funnel")["stages"]
    assert len(links) == len(funnel)
    target = urlsplit(links[1])
    assert target.path == f"/connections/{world.connection_id}/records"
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query == {"period": "90d", "from": (today - timedelta(days=89)).isoformat(),
                     "to": today.isoformat(), "object": "deal", "stage": funnel[1]["stage"]}
    # The link opens the records page on exactly that view.
    opened = client.get(links[1])
    assert opened.status_code == 200


def test_time_in_stage_drills_down_to_the_stalled_records(client, world):
    chart = section(dashboard(client, world), "time-in-stage")
    links = [html.unescape(h) for h in re.findall(r'<a class="drill" href="([^"]+)"', chart)]
    assert links and all("stalled=true" in link for link in links)
    assert "stage=awareness" in links[0]


def test_outcomes_table_carries_the_api_figures(client, world):
    outcomes = api(client, world, "analytics/outcomes")["stages"]
    rows = table_rows(section(dashboard(client, world), "outcomes"), "outcome-table")
    assert [r[0] for r in rows] == [o["label"] for o in outcomes]
    for row, o in zip(rows, outcomes):
        assert row[1:4] == [f"{o['stays']:,}", f"{o['moved_on']:,}", f"{o['moved_back']:,}"]
        assert row[-1] == f"{o['still_there']:,}"
        assert row[4:-1] == [f"{n:,}" for n in o["exits"].values()]


@pytest.mark.parametrize("unit", ["month", "week"])
def test_journeys_page_shows_trends_cohorts_and_paths_like_the_api(client, world, unit):
    text = page(client, world, "journeys", unit=unit)
    trends = api(client, world, "analytics/trends", unit=unit)
    heads = re.findall(r"<th class=\"num\">([^<]+)</th>", section(text, "trends"))
    assert len(heads) == len(trends["buckets"]) > 0
    cohorts = api(client, world, "analytics/cohorts")["cohorts"]
    rows = table_rows(section(text, "cohorts"), "cohort-table")
    assert [(r[0], r[1]) for r in rows] == [(c["cohort"][:7], f"{c['records']:,}") for c in cohorts]
    paths = api(client, world, "analytics/journeys")["paths"]
    assert [r for r in table_rows(section(text, "paths"), "path-table")] == [
        [" → ".join(p["labels"]), f"{p['records']:,}"] for p in paths]
    skipped = api(client, world, "analytics/journeys")["skipped"]
    values = re.findall(r'<text class="value"[^>]*>([\d,]+)', section(text, "skipped"))
    assert [int(v) for v in values] == [s["moves"] for s in skipped]


def test_journeys_page_takes_the_period_and_filters(client, world):
    narrow = api(client, world, "analytics/journeys", object="contact")["paths"]
    text = page(client, world, "journeys", object="contact")
    assert len(table_rows(section(text, "paths"), "path-table")) == max(len(narrow), 1)
    assert '<option value="contact" selected>' in text


def test_journeys_page_refuses_an_unknown_unit(client, world):
    response = client.get(f"/connections/{world.connection_id}/journeys?unit=day")
    assert response.status_code == 400 and "Trend unit: one of week, month" in response.get_data(as_text=True)
