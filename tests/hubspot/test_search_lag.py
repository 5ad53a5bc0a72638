"""HubSpot search is eventually consistent: the sandbox models the index lagging behind changes,
and the connector's incremental pulls overlap the last one so a late-indexed record is not skipped,
dropping the records they read again unchanged."""
from __future__ import annotations

import time
from tests.hubspot.conftest import Api, connector_for

LATE, PROMPT = "18462730013", "18462730011"
LAG = 1.0


def _move(api: Api, deal_id: str, stage: str) -> None:
    assert api.control("move", {"object": "deal", "id": deal_id, "stage": stage}).status_code == 200


def _lagging_change_then_a_prompt_one(sandbox) -> Api:
    """Deal LATE changes while the index lags, then PROMPT changes with the index caught up."""
    api = Api(sandbox)
    api.control("faults", {"index_lag_seconds": LAG})
    _move(api, LATE, "qualifiedtobuy")
    api.control("faults", {"index_lag_seconds": 0})
    time.sleep(0.02)  # a later millisecond
    _move(api, PROMPT, "decisionmakerboughtin")
    return api


def _search_ids(api: Api) -> set[str]:
    body = {"filterGroups": [], "properties": ["dealstage"], "limit": 100}
    return {r["id"] for r in api.post("/crm/v3/objects/deals/search", body).json()["results"]}


def test_the_sandbox_search_finds_a_change_only_once_it_is_indexed(make_hs_sandbox):
    sandbox = make_hs_sandbox()
    api = _lagging_change_then_a_prompt_one(sandbox)
    assert LATE not in _search_ids(api) and PROMPT in _search_ids(api)
    # reading by id is not search: the record is there at once
    assert api.get(f"/crm/v3/objects/deals/{LATE}").status_code == 200
    time.sleep(LAG)
    assert LATE in _search_ids(api)


def test_a_late_indexed_record_is_read_by_the_next_pull_and_repeats_are_dropped(make_hs_sandbox):
    sandbox = make_hs_sandbox()
    connector = connector_for(sandbox)
    first = connector.pull()
    list(first)
    _lagging_change_then_a_prompt_one(sandbox)
    second = connector.pull(cursor=first.cursor)
    assert {r.id for r in second if r.object == "deal"} == {PROMPT}
    assert f"deal/{PROMPT}" in second.cursor["seen"]
    time.sleep(LAG)
    third = connector.pull(cursor=second.cursor)
    # the late record is found; the one read unchanged in the overlap is not handed on again
    assert [(r.id, r.stage_value) for r in third if r.object == "deal"] == [(LATE, "qualifiedtobuy")]


def test_without_an_overlap_the_late_record_would_be_skipped(make_hs_sandbox):
    sandbox = make_hs_sandbox()
    connector = connector_for(sandbox, search_overlap_seconds=0)
    first = connector.pull()
    list(first)
    _lagging_change_then_a_prompt_one(sandbox)
    second = connector.pull(cursor=first.cursor)
    assert {r.id for r in second if r.object == "deal"} == {PROMPT}
    time.sleep(LAG)
    assert LATE not in {r.id for r in connector.pull(cursor=second.cursor)}
