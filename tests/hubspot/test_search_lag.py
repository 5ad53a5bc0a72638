"""HubSpot search is eventually consistent: the sandbox models the index lagging behind changes,
and the connector's incremental pulls overlap the last one so a late-indexed record is not skipped,
dropping the records they read again unchanged."""
from __future__ import annotations

import time
from datetime import datetime

from connectors.hubspot.sandbox.generate import synthetic_seed
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


def test_a_quiet_pull_hands_on_nothing_not_even_the_newest_millisecond(make_hs_sandbox):
    """The cursor names the records stamped at its own point: the next pull finds them again
    (the filter is "at or after") and drops them, unless they changed since."""
    sandbox = make_hs_sandbox(synthetic_seed(60), search_per_second=1000)
    connector = connector_for(sandbox, search_overlap_seconds=0)
    first = connector.pull()
    ids = sorted(r.id for r in first if r.object == "deal")[:40]
    api = Api(sandbox)
    assert api.post("/crm/v3/objects/deals/batch/update", {"inputs": [
        {"id": i, "properties": {"dealname": f"renamed {i}"}} for i in ids]}).status_code == 200
    time.sleep(0.05)
    echo = connector.pull(cursor=first.cursor)
    assert sorted(r.id for r in echo) == ids
    stamps = {r["id"]: _utc(r["properties"]["hs_lastmodifieddate"]) for r in _deals(api)}
    newest = max(stamps.values())
    assert echo.cursor["since"] == newest.isoformat()
    assert set(echo.cursor["seen"]) == {f"deal/{i}" for i, s in stamps.items() if s == newest}
    quiet = connector.pull(cursor=echo.cursor)
    assert list(quiet) == []
    assert quiet.cursor == echo.cursor  # nothing new: the cursor stays where it was
    again = sorted(echo.cursor["seen"])[0].split("/")[1]
    # a move to the stage the deal is in changes nothing (no new stamp): move it elsewhere
    stage = api.get(f"/crm/v3/objects/deals/{again}", params={"properties": "dealstage"}) \
        .json()["properties"]["dealstage"]
    _move(api, again, "closedlost" if stage == "closedwon" else "closedwon")
    assert [r.id for r in connector.pull(cursor=quiet.cursor)] == [again]


def _deals(api: Api) -> list[dict]:
    body = {"filterGroups": [], "properties": ["hs_lastmodifieddate"], "limit": 100}
    return api.post("/crm/v3/objects/deals/search", body).json()["results"]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
