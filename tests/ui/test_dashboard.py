"""The dashboard's charts, filters and stalled list (the top of the records page's), and the
record page, against the API's figures."""
from __future__ import annotations

import re

import pytest
from tests.support import records_count


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


@pytest.mark.parametrize("params", [{}, {"object": "deal"}, {"period": "365d"}])
def test_the_stalled_list_is_the_top_of_the_records_page_s(client, world, params):
    page = dashboard(client, world, **params)
    link = re.search(r'<a href="([^"]+)" id="stalled-all">See all ([\d,]+) stalled records', page)
    records_url = link.group(1).replace("&amp;", "&")
    assert records_url.startswith(f"/connections/{world.connection_id}/records?")
    assert "stalled=true" in records_url and all(f"{k}={v}" in records_url for k, v in params.items())
    records_page = client.get(records_url).get_data(as_text=True)
    table = re.search(r'<table class="data" id="records-table">(.*?)</table>', records_page, re.S).group(1)
    listed = re.findall(r'<td><a href="/connections/\d+/records/[^"]+">([^<]+)</a>', table)
    assert listed and stalled_names(page) == listed[:10]
    assert records_count(records_page) == f"{len(listed):,}" and link.group(2) == f"{len(listed):,}"


def test_stalled_rows_link_to_the_record_page(client, world):
    row = api(client, world, "records", stalled="true")["records"][0]
    page = dashboard(client, world)
    assert f'/connections/{world.connection_id}/records/{row["object"]}/{row["id"]}' in section(page, "stalled")


def test_filters_narrow_every_figure(client, world):
    everyone = api(client, world, "analytics/funnel")["stages"][0]["reached"]
    deals = api(client, world, "analytics/funnel", object="deal")["stages"][0]["reached"]
    assert 0 < deals < everyone
    page = dashboard(client, world, object="deal")
    assert re.search(rf'<text class="value"[^>]*>{deals:,}', section(page, "funnel"))
    assert '<option value="deal" selected>' in page
    links = re.findall(r'href="/connections/\d+/records/(\w+)/', section(page, "stalled"))
    assert links and set(links) == {"deal"}


def test_an_unknown_funnel_type_is_a_clear_error(client, world):
    response = client.get(f"/connections/{world.connection_id}/dashboard?funnel=colour")
    assert response.status_code == 400
    assert "Funnel type: one of reached, any, strict" in response.get_data(as_text=True)


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


def test_stalled_by_stage_and_owner_bars_open_those_stalled_records(client, world):
    page = dashboard(client, world, period="365d")
    summary = section(page, "stalled-summary")
    links = [link.replace("&amp;", "&") for link in re.findall(r'<a class="drill" href="([^"]+)"', summary)]
    by_owner = [link for link in links if "owner=" in link]
    by_stage = [link for link in links if "stage=" in link]
    assert by_owner and by_stage and len(by_owner) + len(by_stage) == len(links)
    assert all("stalled=true" in link and "period=365d" in link for link in links)
    # the bar's figure is the records page's count for its link
    first = re.search(r'<a class="drill" href="[^"]+"[^>]*>.*?<text class="value"[^>]*>([\d,]+)</text>',
                      summary, re.S).group(1)
    records_page = client.get(by_stage[0]).get_data(as_text=True)
    assert records_count(records_page) == first
