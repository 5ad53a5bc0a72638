"""The record list's sorting and keyset paging (``sort``, ``order``, ``limit``, ``after``) on
SQLite and PostgreSQL: walking every page of every sort, both ways, gives each record once, in the
order the sort promises (empty values last, ties broken by record)."""
from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timedelta, timezone

import pytest

from integration.app import create_app
from integration.record_pages import SORTS, encode_cursor
from integration.sandboxes import sandbox_settings
from integration.store.models import CrmOwner, RecordState
from integration.store.tenancy import get_or_create_tenant, issue_token

RECORDS = "/api/v1/connections/paged/records"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
#: Owner ids whose names sort differently from the ids; "o9" has no stored name.
OWNERS = {"o1": "Zoe Young", "o2": "Adam Brook", "o3": "Mia Lane"}
#: Persona keys whose default-map labels sort differently from the keys.
PERSONAS = ["enterprise_buyer", "general", "small_buyer", "time_pressed_professional", None]
LABELS = {"enterprise_buyer": "High-value enterprise buyer", "general": "General buyer",
          "small_buyer": "Price-sensitive small buyer",
          "time_pressed_professional": "Time-pressed professional"}
STAGES = ["advocacy", "awareness", "lost", "decision", "unmapped", "consideration"]
#: The default map's order of those stages (stages, then exits, then anything else).
STAGE_ORDER = ["awareness", "consideration", "decision", "advocacy", "lost", "unmapped"]


def _book(n=37):
    """Records with repeated values (ties) and empty ones in every nullable column."""
    rng = random.Random(14)
    book = []
    for i in range(n):
        book.append({
            "crm_id": f"r{i:02d}", "name": rng.choice(["Acme", "Globex", "initech", None]),
            "stage": rng.choice(STAGES), "persona": rng.choice(PERSONAS),
            "owner_id": rng.choice([*OWNERS, "o9", None]),
            "entered_at": rng.choice([START + timedelta(days=rng.randint(0, 5)), None]),
            "days_over": rng.choice([0, 0, 3, 12]), "amount": rng.choice([None, 500.0, 9000.0]),
            "next_best_action": rng.choice([None, "Call", "Send the case study"])})
    return book


BOOK = _book()


@pytest.fixture(scope="module")
def client(services, hs_sandbox):
    app = create_app(services.settings, services)
    with services.session() as s:
        token = issue_token(s, get_or_create_tenant(s, "pager").id)
    headers = {"Authorization": f"Bearer {token}"}
    res = app.test_client().post("/api/v1/connections", headers=headers, json={
        "name": "paged", "crm": "hubspot", "settings": sandbox_settings("hubspot", hs_sandbox.info())})
    assert res.status_code == 201, res.json
    ids = {}
    with services.session() as s:
        for owner_id, name in OWNERS.items():
            s.add(CrmOwner(connection_id=res.json["id"], owner_id=owner_id, name=name))
        for rec in BOOK:
            row = RecordState(connection_id=res.json["id"], object="deal", stalled=rec["days_over"] > 0,
                              record={"crm": "hubspot", "object": "deal", "id": rec["crm_id"]},
                              state={"next_best_action": rec["next_best_action"]}, **rec)
            s.add(row)
            s.flush()
            ids[rec["crm_id"]] = row.id
    client = app.test_client()
    client.row_ids = ids
    client.get_json = lambda **params: client.get(RECORDS, headers=headers, query_string=params)
    return client


def expected(sort, descending, row_ids):
    """The order the sort promises, computed here from the book."""
    field = {"owner": "owner_id"}.get(sort, sort)
    label = {"stage": lambda v: STAGE_ORDER.index(v),
             "persona": lambda v: LABELS[v].lower(),
             "owner": lambda v: OWNERS.get(v, v).lower()}.get(sort, lambda v: v)
    full = [r for r in BOOK if r[field] is not None]
    empty = [r for r in BOOK if r[field] is None]
    if SORTS[sort].labelled:  # by label, then by record
        key = lambda r: (label(r[field]), r[field], row_ids[r["crm_id"]] * (-1 if descending else 1))
        full.sort(key=key, reverse=False)
        if descending:
            # the labels' order reversed, records within a label by id descending
            groups = {}
            for r in full:
                groups.setdefault((label(r[field]), r[field]), []).append(r)
            full = [r for k in sorted(groups, reverse=True) for r in groups[k]]
    else:
        full.sort(key=lambda r: (r[field], row_ids[r["crm_id"]]), reverse=descending)
    empty.sort(key=lambda r: row_ids[r["crm_id"]], reverse=descending)
    return [r["crm_id"] for r in full + empty]


def walk(client, **params):
    """Every page of a sort, following ``next``; the ids in the order served."""
    seen, after, pages = [], None, 0
    while True:
        res = client.get_json(limit=4, **params, **({"after": after} if after else {}))
        assert res.status_code == 200, res.json
        seen += [r["id"] for r in res.json["records"]]
        pages += 1
        after = res.json["next"]
        if after is None:
            return seen, pages
        assert len(res.json["records"]) == 4 and pages < 50


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("sort", list(SORTS))
def test_every_page_of_every_sort_in_the_promised_order(client, sort, order):
    seen, pages = walk(client, sort=sort, order=order)
    assert seen == expected(sort, order == "desc", client.row_ids)
    assert pages == -(-len(BOOK) // 4)


def test_each_sort_has_its_default_direction(client):
    res = client.get_json(sort="days_over", limit=3)
    assert res.json["order"] == "desc" and [r["days_over"] for r in res.json["records"]] == [12, 12, 12]
    assert client.get_json(sort="name", limit=1).json["order"] == "asc"
    assert client.get_json(limit=1).json["sort"] == "days_over"


def test_filters_hold_on_every_page(client):
    seen, _ = walk(client, sort="owner", stalled="true")
    assert seen == [i for i in expected("owner", False, client.row_ids)
                    if next(r for r in BOOK if r["crm_id"] == i)["days_over"] > 0]


def test_csv_export_follows_sort_and_order_over_every_record(client):
    res = client.get_json(sort="persona", order="desc", format="csv")
    rows = list(csv.DictReader(io.StringIO(res.get_data(as_text=True), newline="")))
    assert [r["id"] for r in rows] == expected("persona", True, client.row_ids)
    assert "email" in rows[0] and "company" in rows[0]


@pytest.mark.parametrize("params, named", [
    ({"sort": "crm_values"}, "sort"), ({"order": "up"}, "order"), ({"after": "!!"}, "after"),
    ({"after": "x" * 401}, "after"), ({"offset": "4"}, "offset"),
    ({"after": encode_cursor("values", "not a number", 1), "sort": "days_over"}, "after"),
    ({"after": encode_cursor("no-such-owner", None, 1), "sort": "owner"}, "after"),
    ({"after": encode_cursor("values", 1, True)}, "after"),
])
def test_bad_sort_order_or_cursor_is_a_400(client, params, named):
    res = client.get_json(**params)
    assert res.status_code == 400, res.json
    assert named in res.json["error"]["message"]
