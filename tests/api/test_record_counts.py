"""How many records a view holds, on SQLite and PostgreSQL, over a book larger than the count
limit: a view counts up to ``COUNT_LIMIT`` ("1,000+") unless its exact count is asked for
(``count=exact`` in the API and on the records page) or kept; searches of one or two characters
(word starts, or substrings when not letters and digits) find, page and count what a scan finds; the CSV
export still streams every record."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone

import pytest

from integration.app import create_app
from integration.record_pages import COUNT_LIMIT
from integration.store import search
from integration.store.models import Connection, RecordState
from integration.store.tenancy import create_user, get_or_create_tenant, issue_token
from tests.support import search_holds

NOW = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
SIZE = COUNT_LIMIT + 50
EMAIL, PASSWORD = "counts@acme.example", "a long enough password"


def _book() -> list[dict]:
    """Record i: "Record i", p<i>@example.com, "Company <i % 40>"; every third one stalled."""
    return [{"crm_id": str(i), "name": f"Record {i}", "email": f"p{i}@example.com",
             "company": f"Company {i % 40}", "stalled": i % 3 == 0,
             "days_over": i % 17 if i % 3 == 0 else 0}
            for i in range(SIZE)]


BOOK = _book()


def matching(q: str) -> list[dict]:
    """The book's records whose name, e-mail or company holds ``q`` (a scan)."""
    return [r for r in BOOK if any(search_holds(r[k], q) for k in ("name", "email", "company"))]


@pytest.fixture(scope="module")
def world(services):
    with services.session() as db:
        tenant = get_or_create_tenant(db, "counts")
        conn = Connection(tenant_id=tenant.id, name="counted", crm="hubspot")
        db.add(conn)
        db.commit()
        db.add_all([RecordState(connection_id=conn.id, object="deal", stage="awareness", record={},
                                state={}, updated_at=NOW, **rec) for rec in BOOK])
        create_user(db, tenant.id, EMAIL, PASSWORD)
        token, cid = issue_token(db, tenant.id), conn.id
        db.commit()
    app = create_app(services.settings, services)
    api = app.test_client()
    api.records = lambda **params: api.get(f"/api/v1/connections/{cid}/records",
                                           headers={"Authorization": f"Bearer {token}"},
                                           query_string=params)
    web = app.test_client()
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', web.get("/sign-in").get_data(as_text=True))
    web.post("/sign-in", data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf.group(1)})
    web.records = lambda **params: web.get(f"/connections/{cid}/records", query_string=params)
    return api, web


def total(api, **params) -> tuple[int, bool]:
    res = api.records(limit=1, **params)
    assert res.status_code == 200, res.json
    return res.json["total"], res.json["total_exact"]


def test_a_view_counts_up_to_the_limit_and_says_when_more_match(world):
    api, _ = world
    assert total(api, count="capped") == (COUNT_LIMIT, False)
    stalled = sum(r["stalled"] for r in BOOK)
    assert stalled < COUNT_LIMIT and total(api, count="capped", stalled="true") == (stalled, True)
    assert "total" not in api.records(limit=1).json  # counted only when asked


def test_the_exact_count_when_asked_then_kept_for_the_capped_view(world):
    api, _ = world
    assert total(api, count="capped", object="deal") == (COUNT_LIMIT, False)
    assert total(api, count="exact", object="deal") == (SIZE, True)
    assert total(api, count="capped", object="deal") == (SIZE, True)  # the kept count


def assert_found_alike(api, q: str) -> None:
    """The pages of search ``q`` hold what a scan finds, and its counts count them."""
    expected = sorted(int(r["crm_id"]) for r in matching(q))
    pages, after = [], None
    while True:
        res = api.records(q=q, sort="name", limit=1000, **({"after": after} if after else {}))
        assert res.status_code == 200, res.json
        pages += [int(r["id"]) for r in res.json["records"]]
        if (after := res.json["next"]) is None:
            break
    assert sorted(pages) == expected
    assert total(api, q=q, count="capped") == (min(len(expected), COUNT_LIMIT), len(expected) <= COUNT_LIMIT)
    assert total(api, q=q, count="exact") == (len(expected), True)


@pytest.mark.parametrize("q", ["7", "E", "42", "@e", "zq", "y 3"])
def test_short_searches_page_and_count_what_a_scan_finds(world, q):
    assert_found_alike(world[0], q)


@pytest.mark.parametrize("q", ["1", "P", "co"])  # not searched above: no count kept
def test_word_heads_most_records_hold_page_and_count_alike_without_the_index(world, monkeypatch, q):
    monkeypatch.setattr(search, "DENSE_READS", 1)  # dense from 33 holders of 1,050 records
    assert_found_alike(world[0], q)


def test_the_csv_export_streams_every_record_of_the_view(world):
    api, _ = world
    res = api.records(format="csv", count="capped", q="record")
    rows = list(csv.DictReader(io.StringIO(res.get_data(as_text=True), newline="")))
    assert len(rows) == SIZE > COUNT_LIMIT and {r["id"] for r in rows} == {r["crm_id"] for r in BOOK}


def test_a_count_other_than_capped_or_exact_is_a_400(world):
    api, web = world
    res = api.records(count="all")
    assert res.status_code == 400 and "count" in res.json["error"]["message"]
    assert web.records(count="all").status_code == 400


def test_the_records_page_shows_a_capped_count_and_counts_them_all_when_asked(world):
    _, web = world
    html = web.records(q="example").get_data(as_text=True)
    assert re.search(r'id="record-count">1,000\+<', html)
    assert re.search(r'id="tasks-all" disabled', html)  # more than a bulk request takes
    link = re.search(r'id="count-all" href="([^"]+)"|href="([^"]+)" id="count-all"', html)
    url = (link.group(1) or link.group(2)).replace("&amp;", "&")
    assert "count=exact" in url and "q=example" in url
    counted = web.get(url).get_data(as_text=True)
    assert re.search(rf'id="record-count">{SIZE:,}<', counted) and 'id="count-all"' not in counted
    again = web.records(q="example").get_data(as_text=True)  # kept until the data changes
    assert re.search(rf'id="record-count">{SIZE:,}<', again)
    few = web.records(q="Company 39").get_data(as_text=True)
    assert re.search(rf'id="record-count">{len(matching("Company 39")):,}<', few)
    assert 'id="count-all"' not in few
