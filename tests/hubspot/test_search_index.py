"""The sandbox's search reads sorted indexes on the id and the modification stamp: it must answer
exactly as reading every record does. Two copies of one filter group (an OR of the same thing)
make the sandbox read every record, so each query is asked both ways and the answers compared."""
from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

import pytest

from connectors.hubspot.sandbox.generate import synthetic_seed
from connectors.hubspot.sandbox.wire import parse_datetime_value
from tests.hubspot.conftest import Api

OBJECTS = {"deals": "hs_lastmodifieddate", "contacts": "lastmodifieddate"}


@pytest.fixture(scope="module")
def api(make_hs_sandbox) -> tuple[Api, dict[str, list[tuple[int, int]]]]:
    """A portal of 300 deals and 300 contacts, a third of them updated in batches (so that many
    share a modification millisecond), with each object's (stamp ms, id) pairs."""
    sandbox = make_hs_sandbox(synthetic_seed(300, 300), search_per_second=10_000,
                              rate_limit=100_000)
    client = Api(sandbox)
    rng = random.Random(11)
    for path in OBJECTS:
        ids = [r["id"] for r in _all(client, path, {})]
        for start in range(0, 100, 25):
            inputs = [{"id": i, "properties": {"firstname" if path == "contacts" else "dealname":
                                               f"x{rng.random()}"}}
                      for i in rng.sample(ids, 25)]
            assert client.post(f"/crm/v3/objects/{path}/batch/update", {"inputs": inputs}).status_code == 200
            time.sleep(0.003)
    stamps = {path: sorted((_ms(r["properties"][prop]), int(r["id"]))
                           for r in _all(client, path, {"properties": [prop]}))
              for path, prop in OBJECTS.items()}
    return client, stamps


def _ms(text: str) -> int:
    return round(parse_datetime_value(text).timestamp() * 1000)


def _all(api: Api, path: str, extra: dict[str, Any]) -> list[dict[str, Any]]:
    """Every record, walked by id pages (each page restarts after the last id)."""
    found, last = [], "0"
    while True:
        body = {"filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "GT",
                                               "value": last}]}],
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}], "limit": 200,
                **extra}
        page = api.post(f"/crm/v3/objects/{path}/search", body).json()
        found += page["results"]
        if not page.get("paging"):
            return found
        last = page["results"][-1]["id"]


def _ask(api: Api, path: str, filters: list[dict[str, Any]], sort: dict[str, Any] | None,
         after: int, limit: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answer read through the indexes and the answer read from every record."""
    body: dict[str, Any] = {"limit": limit, "properties": ["hs_object_id"]}
    if sort:
        body["sorts"] = [sort]
    if after:
        body["after"] = str(after)
    answers = []
    for groups in ([{"filters": filters}], [{"filters": filters}, {"filters": filters}]):
        response = api.post(f"/crm/v3/objects/{path}/search", {**body, "filterGroups": groups})
        assert response.status_code == 200, response.text
        answer = response.json()
        answers.append({"total": answer["total"], "ids": [r["id"] for r in answer["results"]],
                        "paging": answer.get("paging")})
    return answers[0], answers[1]


def _random_filters(rng: random.Random, path: str, stamps: list[tuple[int, int]]
                    ) -> list[dict[str, Any]]:
    stamp_prop = OBJECTS[path]
    filters = []
    for _ in range(rng.randint(0, 3)):
        stamp, record_id = rng.choice(stamps)
        name, value = rng.choice([("hs_object_id", record_id), (stamp_prop, stamp),
                                  (stamp_prop, stamp + rng.choice((-1, 1)))])
        operator = rng.choice(["EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN"])
        spec = {"propertyName": name, "operator": operator, "value": str(value)}
        if operator == "BETWEEN":
            spec["highValue"] = str(value + rng.choice((0, 1, 5_000, 10**12)))
        filters.append(spec)
    if rng.random() < 0.2:  # a filter no index answers
        filters.append({"propertyName": "createdate", "operator": "LT",
                        "value": "2025-01-01T03:00:00Z"})
    return filters


@pytest.mark.parametrize("path", sorted(OBJECTS))
def test_indexed_search_answers_as_reading_every_record_does(api, path):
    client, stamps = api
    rng = random.Random(path)
    for _ in range(120):
        sort = rng.choice([None, *({"propertyName": name, "direction": direction}
                                   for name in ("hs_object_id", OBJECTS[path], "createdate")
                                   for direction in ("ASCENDING", "DESCENDING"))])
        indexed, scanned = _ask(client, path, _random_filters(rng, path, stamps[path]), sort,
                                rng.choice((0, 0, 3, 150)), rng.choice((1, 7, 200)))
        assert indexed == scanned


def test_stamp_ranges_count_and_order_ties_by_id(api):
    client, stamps = api
    # the newest millisecond several deals share: a batch's records are stamped one by one, so
    # on a loaded machine the very newest may hold one
    shared = Counter(ms for ms, _ in stamps["deals"])
    tied_ms = max(ms for ms, n in shared.items() if n > 1)
    since = [(ms, i) for ms, i in stamps["deals"] if ms >= tied_ms]
    filters = [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(tied_ms)}]
    indexed, scanned = _ask(client, "deals", filters, {"propertyName": "hs_lastmodifieddate",
                                                      "direction": "DESCENDING"}, 0, 200)
    assert indexed == scanned
    assert indexed["total"] == len(since) and shared[tied_ms] > 1
    assert indexed["ids"] == [str(i) for _, i in sorted(since, reverse=True)]


def test_a_walk_by_id_reads_every_record_once(api):
    client, stamps = api
    assert [int(r["id"]) for r in _all(client, "contacts", {})] == sorted(i for _, i in stamps["contacts"])


def test_records_the_index_has_not_caught_up_with_are_left_out_of_indexed_answers(make_hs_sandbox):
    sandbox = make_hs_sandbox(synthetic_seed(20))
    client = Api(sandbox)
    first = _all(client, "deals", {})
    client.control("faults", {"index_lag_seconds": 1.0})
    late = first[5]["id"]
    assert client.post("/crm/v3/objects/deals/batch/update", {"inputs": [
        {"id": late, "properties": {"dealname": "renamed"}}]}).status_code == 200
    by_id = {"propertyName": "hs_object_id", "direction": "ASCENDING"}
    indexed, scanned = _ask(client, "deals", [], by_id, 0, 200)
    assert indexed == scanned and indexed["total"] == 19 and late not in indexed["ids"]
    time.sleep(1.0)
    indexed, _ = _ask(client, "deals", [], by_id, 0, 200)
    assert indexed["total"] == 20 and late in indexed["ids"]
