"""The records page against the REST API's answers: the same records in the same order for every
sort, search and filter; the stalled toggle; the CSV link carrying the view; bad input a 400."""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import select

from integration.record_pages import SORTS
from integration.store.models import RecordState


def api(client, world, **params):
    res = client.get(f"/api/v1/connections/{world.connection_id}/records",
                     query_string={"limit": 1000, **params})
    assert res.status_code == 200, res.get_json()
    return [r["id"] for r in res.get_json()["records"]]


def page(client, world, **params):
    res = client.get(f"/connections/{world.connection_id}/records", query_string=params)
    assert res.status_code == 200, res.get_data(as_text=True)[:500]
    return res.get_data(as_text=True)


def row_ids(html):
    return re.findall(r'<tr data-id="([^"]+)">', html)


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("sort", list(SORTS))
def test_rows_come_in_the_order_the_api_gives(client, world, sort, order):
    shown = row_ids(page(client, world, sort=sort, order=order))
    assert shown and shown == api(client, world, sort=sort, order=order)


def test_a_heading_sorts_by_its_column_and_again_the_other_way(client, world):
    html = page(client, world)
    link = re.search(r'<a href="([^"]+)" data-sort="name"', html).group(1).replace("&amp;", "&")
    assert parse_qs(urlparse(link).query)["order"] == ["asc"]
    again = page(client, world, **{k: v[0] for k, v in parse_qs(urlparse(link).query).items()})
    link = re.search(r'<a href="([^"]+)" data-sort="name"', again).group(1).replace("&amp;", "&")
    assert parse_qs(urlparse(link).query)["order"] == ["desc"]
    assert 'aria-sort="ascending"' in again


def test_search_finds_by_name_email_and_company(client, world):
    assert row_ids(page(client, world, q="ana silva")) == api(client, world, q="ana silva") != []
    assert row_ids(page(client, world, q="GLOBEX.example")) == api(client, world, q="globex.example") != []
    by_company = row_ids(page(client, world, q="globex"))  # contact 151's company is Globex
    assert "151" in by_company and by_company == api(client, world, q="globex")
    assert "No records for this view." in page(client, world, q="no such person")


def test_stalled_only_and_a_stage_narrow_the_list(client, world):
    stalled = row_ids(page(client, world, stalled="1"))
    assert stalled == api(client, world, stalled="true")
    assert set(stalled) < set(row_ids(page(client, world)))
    html = page(client, world, stage="purchase")
    assert row_ids(html) == api(client, world, stage="purchase")
    assert "in <strong>Purchase</strong>" in html


def test_the_csv_link_downloads_this_view(client, world):
    html = page(client, world, stalled="1", q="a", sort="name", order="desc", period="365d")
    url = re.search(r'id="csv-export" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    args = parse_qs(urlparse(url).query)
    assert args["format"] == ["csv"] and args["stalled"] == ["true"] and args["q"] == ["a"]
    assert "from" in args and "to" in args and "period" not in args  # the API takes dates
    res = client.get(url)
    assert res.status_code == 200 and res.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(res.get_data(as_text=True), newline="")))
    assert [r["id"] for r in rows] == row_ids(html)


@pytest.mark.parametrize("params", [{"sort": "crm_values"}, {"order": "sideways"},
                                    {"after": "garbage"}, {"period": "next-week"},
                                    {"q": "x" * 201}, {"stage": "s" * 201},
                                    {"after": "a" * 401}, {"period": "2026-Q9"}])
def test_a_bad_parameter_is_a_400(client, world, params):
    res = client.get(f"/connections/{world.connection_id}/records", query_string=params)
    assert res.status_code == 400


def test_another_workspaces_connection_is_a_404(client, world):
    assert client.get(f"/connections/{world.other_connection_id}/records").status_code == 404


def test_records_without_an_owner_are_counted_on_the_not_on_the_map_page(client, world):
    with world.services.session() as db:
        ownerless = Counter(r.object for r in db.exec(select(RecordState).where(
            RecordState.connection_id == world.connection_id, RecordState.owner_id.is_(None),
            RecordState.stage != "unmapped")))
    assert ownerless, "the seed has records without an owner"
    html = client.get(f"/connections/{world.connection_id}/unmapped").get_data(as_text=True)
    section = re.search(r'<section class="card" id="ownerless">(.*?)</section>', html, re.S).group(1)
    for obj, n in ownerless.items():
        assert f"{n:,} {obj}(s)" in section
