"""The dashboard's charts, filters and stalled table, and the record page, against the API's figures."""
from __future__ import annotations

import re

import pytest


def api(client, world, path, **params):
    return client.get(f"/api/v1/connections/{world.connection_id}/{path}",
                      query_string=params).get_json()


def dashboard(client, world, **params):
    response = client.get(f"/connections/{world.connection_id}/dashboard", query_string=params)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(page, element_id):
    return re.search(rf'<section class="card" id="{element_id}">(.*?)</section>', page, re.S).group(1)


def test_funnel_bars_carry_the_api_figures(client, world):
    funnel = api(client, world, "analytics/funnel")["stages"]
    chart = section(dashboard(client, world), "funnel")
    values = re.findall(r'<text class="value"[^>]*>([^<]*)</text>', chart)
    assert len(values) == len(funnel)
    for stage, text in zip(funnel, values):
        assert text.startswith(f"{stage['reached']:,}")
        if stage["conversion"] is not None:
            assert f"{stage['conversion'] * 100:.0f}% of previous" in text
    assert funnel[0]["reached"] > 0


def test_time_in_stage_shows_median_quartiles_and_expected_days(client, world):
    stages = api(client, world, "analytics/time-in-stage")["stages"]
    chart = section(dashboard(client, world), "time-in-stage")
    measured = [s for s in stages if s["median"] is not None]
    assert measured
    for stage in measured:
        assert (f"median {stage['median']:g} d · middle half {stage['p25']:g}–{stage['p75']:g} d"
                in chart)
    # Every expected days is drawn: on the axis, or as an arrow when far beyond the stays.
    assert chart.count('class="target"') + chart.count('class="target-beyond"') == sum(
        1 for s in stages if s["expected_days"])


def stalled_names(page):
    table = re.search(r'<table class="data" id="stalled-table">(.*?)</table>', page, re.S).group(1)
    return re.findall(r'<td><a href="/connections/\d+/records/[^"]+">([^<]+)</a>', table)


@pytest.mark.parametrize("sort", ["days_over", "amount", "name"])
def test_stalled_table_sorts_like_the_api(client, world, sort):
    rows = api(client, world, "records", stalled="true", sort=sort, limit=25)["records"]
    assert rows
    assert stalled_names(dashboard(client, world, sort=sort)) == [r["name"] or r["id"] for r in rows]


def test_stalled_rows_link_to_the_crm_and_the_record_page(client, world):
    row = api(client, world, "records", stalled="true")["records"][0]
    page = dashboard(client, world)
    assert f'href="{row["url"]}"' in page
    assert f'/connections/{world.connection_id}/records/{row["object"]}/{row["id"]}' in page


def test_filters_narrow_every_figure(client, world):
    everyone = api(client, world, "analytics/funnel")["stages"][0]["reached"]
    deals = api(client, world, "analytics/funnel", object="deal")["stages"][0]["reached"]
    assert 0 < deals < everyone
    page = dashboard(client, world, object="deal")
    assert re.search(rf'<text class="value"[^>]*>{deals:,}', section(page, "funnel"))
    assert '<option value="deal" selected>' in page
    links = re.findall(r'href="/connections/\d+/records/(\w+)/', section(page, "stalled"))
    assert links and set(links) == {"deal"}


def test_an_unknown_sort_is_a_clear_error(client, world):
    response = client.get(f"/connections/{world.connection_id}/dashboard?sort=colour")
    assert response.status_code == 400
    assert "Sort by one of" in response.get_data(as_text=True)


def test_record_page_shows_the_timeline_of_the_record(client, world):
    row = api(client, world, "records", object="deal", sort="amount")["records"][0]
    record = api(client, world, f"records/deal/{row['id']}")
    page = client.get(f"/connections/{world.connection_id}/records/deal/{row['id']}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    table = re.search(r'<table class="data" id="timeline">(.*?)</table>', text, re.S).group(1)
    body_rows = re.findall(r"<tr[^>]*>\s*<td>(.*?)</td>\s*<td>([\d-]+)</td>", table, re.S)
    assert [(label.split(" <")[0].strip(), day) for label, day in body_rows] == [
        (span["label"], span["entered_at"][:10]) for span in record["timeline"]]
    assert len(record["timeline"]) >= 2


def test_unknown_record_is_not_found(client, world):
    response = client.get(f"/connections/{world.connection_id}/records/deal/nope")
    assert response.status_code == 404
    assert "There is no deal nope" in response.get_data(as_text=True)
