"""The REST API over real synced data (the demo world): records, timelines, analytics, preview and
coverage, and that no answer or log carries a CRM secret."""
from __future__ import annotations

import logging

import pytest
import requests
from sqlmodel import select

from integration.store.connections import connection_config
from integration.store.models import Connection
from mapping import default_map, map_from_dict, map_to_dict


@pytest.fixture(scope="module")
def api(live_service):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {live_service['token']}"
    base = f"{live_service['base_url']}/api/v1/connections"

    def call(method, path, **kw):
        res = session.request(method, f"{base}/{path}", timeout=60, **kw)
        return res

    return call


def test_records_filter_and_sort(api):
    stalled = api("GET", "salesforce-demo/records?stalled=true&object=opportunity&sort=days_over").json()
    rows = stalled["records"]
    assert rows and all(r["stalled"] and r["object"] == "opportunity" for r in rows)
    assert [r["days_over"] for r in rows] == sorted((r["days_over"] for r in rows), reverse=True)
    assert all(r["url"] and r["url"].startswith("https://") for r in rows)
    by_amount = api("GET", "hubspot-demo/records?stage=decision&sort=amount&limit=5").json()["records"]
    assert len(by_amount) == 5 and all(r["stage"] == "decision" for r in by_amount)
    assert [r["amount"] for r in by_amount] == sorted((r["amount"] for r in by_amount), reverse=True)
    owner = rows[0]["owner_id"]
    mine = api("GET", f"salesforce-demo/records?owner={owner}&limit=1000").json()["records"]
    assert mine and {r["owner_id"] for r in mine} == {owner}


def test_one_record_has_its_journey_timeline(api):
    row = api("GET", "hubspot-demo/records?stage=decision&object=deal&limit=1").json()["records"][0]
    detail = api("GET", f"hubspot-demo/records/deal/{row['id']}").json()
    timeline = detail["timeline"]
    assert timeline and timeline[-1]["stage"] == "decision" and timeline[-1]["exited_at"] is None
    assert all(t["days"] >= 0 for t in timeline)
    assert api("GET", "hubspot-demo/records/deal/999").status_code == 404


def test_funnel_time_in_stage_and_stalled(api):
    funnel = api("GET", "salesforce-demo/analytics/funnel?object=opportunity").json()["stages"]
    assert [f["stage"] for f in funnel] == list(default_map().stage_keys)
    reached = [f["reached"] for f in funnel]
    assert reached == sorted(reached, reverse=True) and reached[0] > 0
    tis = api("GET", "hubspot-demo/analytics/time-in-stage").json()["stages"]
    decision = next(t for t in tis if t["stage"] == "decision")
    assert decision["count"] > 0 and decision["p25"] <= decision["median"] <= decision["p75"]
    assert decision["expected_days"] == 30
    stalled = api("GET", "salesforce-demo/analytics/stalled").json()
    assert stalled["total"] == sum(stalled["by_stage"].values()) == sum(stalled["by_owner"].values())
    filtered = api("GET", "salesforce-demo/analytics/stalled?persona=enterprise_buyer").json()
    assert filtered["total"] <= stalled["total"]


def test_preview_of_a_map_change_saves_nothing(api):
    data = map_to_dict(default_map())
    for stage in data["stages"]:
        if stage["key"] == "decision":
            stage["expected_days"] = 1
    versions_before = api("GET", "hubspot-demo/map/versions").json()["versions"]
    report = api("POST", "hubspot-demo/map/preview?sample=3",
                 json={"map": map_to_dict(map_from_dict(data))}).json()
    assert report["total"] >= 200
    assert report["turn_stalled"]["count"] > 0 and report["rewritten"] >= report["turn_stalled"]["count"]
    assert len(report["samples"]) <= 3
    decision = next(s for s in report["stages"] if s["stage"] == "decision")
    assert decision["before"] == decision["after"] > 0
    assert api("GET", "hubspot-demo/map/versions").json()["versions"] == versions_before
    bad = api("POST", "hubspot-demo/map/preview", json={"document": "stages: 3"})
    assert bad.status_code == 422 and bad.json()["error"]["details"]


def test_coverage_reads_the_crms_real_stages(api):
    sf = api("GET", "salesforce-demo/map/coverage").json()
    assert sf["crm"] == "salesforce" and sf["unmapped"] == [] and sf["complete"]
    objects = {g["object"] for g in sf["groups"]}
    assert {"opportunity", "lead"} <= objects
    hs = api("GET", "hubspot-demo/map/coverage").json()
    assert {(g["object"], g["pipeline"]) for g in hs["groups"]} >= {("deal", "default")}


def test_no_answer_and_no_log_line_carries_a_crm_secret(live_service, api, caplog):
    services = live_service["services"]
    with services.session() as s:
        secrets = [v for c in s.exec(select(Connection)).all()
                   for k, v in connection_config(services.secret_box, c).items()
                   if k in ("access_token", "refresh_token", "client_secret") and v]
    assert secrets
    caplog.set_level(logging.DEBUG)
    answers = [api("GET", path).text for path in
               ("", "salesforce-demo", "hubspot-demo", "salesforce-demo/runs",
                "hubspot-demo/outbox", "hubspot-demo/map")]
    api("POST", "hubspot-demo/sync", json={})
    text = "\n".join(answers) + caplog.text
    assert not [s for s in secrets if s in text]
