"""The living map in the API, on SQLite and PostgreSQL: what each version changed, the numbers
before and after it, and the review standing of connection and workspace maps."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import yaml

from integration.app import create_app
from integration.store.connections import create_connection
from integration.store.records import replace_events
from integration.store.tenancy import get_or_create_tenant, issue_token
from mapping import default_map, map_to_dict


@pytest.fixture(scope="module")
def app(services):
    return create_app(services.settings, services)


@pytest.fixture(scope="module")
def world(services):
    """Two tenants' tokens; tenant a has a connection "own" (with its own map) and "shared"."""
    stamp = datetime.now().timestamp()
    with services.session() as s:
        a, b = (get_or_create_tenant(s, f"{name}-{stamp}") for name in ("a", "b"))
        own, shared = (create_connection(s, services.secret_box, tenant_id=a.id, name=name,
                                         crm="hubspot", settings={}, secrets={})
                       for name in ("own", "shared"))
        return {"a": issue_token(s, a.id), "b": issue_token(s, b.id), "own": own.id, "shared": shared.id}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def put_map(client, world, data, comment):
    res = client.put("/api/v1/connections/own/map", headers=auth(world["a"]),
                     json={"map": data, "comment": comment})
    assert res.status_code == 201, res.json
    return res.json["version"]


def test_versions_say_what_they_changed(app, world):
    client = app.test_client()
    data = map_to_dict(default_map())
    put_map(client, world, data, "first")
    data["stages"][0]["expected_days"] = 7
    version = put_map(client, world, data, "awareness is quicker")
    versions = client.get("/api/v1/connections/own/map/versions", headers=auth(world["a"])).json["versions"]
    assert [(v["version"], v["summary"]) for v in versions[:2]] == [
        (version, "1 expected days changed"), (version - 1, "First version")]
    assert versions[0]["changes"] == [{"section": "expected_days", "kind": "changed",
                                       "subject": "Awareness", "before": "14", "after": "7"}]
    shown = client.get(f"/api/v1/connections/own/map/versions/{version}", headers=auth(world["a"])).json
    assert shown["summary"] == "1 expected days changed" and shown["first"] is False
    assert "expected_days: 7" in shown["document"]


def test_a_version_shows_the_numbers_before_and_after_it(app, world, services):
    client = app.test_client()
    version = put_map(client, world, map_to_dict(default_map()), "baseline")
    saved = client.get(f"/api/v1/connections/own/map/versions/{version}", headers=auth(world["a"])).json
    effective = datetime.fromisoformat(saved["created_at"])
    with services.session() as s:
        replace_events(s, world["own"], {("deal", str(i)): [{
            "to_stage": "awareness", "occurred_at": effective - timedelta(days=3 + i),
            "exited_at": None, "crm_stages": []}] for i in range(3)})
    effect = client.get(f"/api/v1/connections/own/map/versions/{version}",
                        headers=auth(world["a"])).json["effect"]
    [figures] = effect["connections"]
    awareness = figures["stages"][0]
    assert (figures["connection_id"], awareness["stage"]) == (world["own"], "awareness")
    assert (awareness["before"]["reached"], awareness["after"]["reached"]) == (3, 0)
    assert awareness["before"]["median_days"] == 4          # open stays of 3, 4 and 5 days (and a bit)
    assert effect["days"] == 30


def test_review_standing_and_mark_reviewed(app, world):
    client = app.test_client()
    own = client.get("/api/v1/connections/own/map/review", headers=auth(world["a"])).json
    assert own["every_days"] == 90 and own["due"] is False and own["last_reviewed"]
    # "shared" has no map of its own: it uses the workspace map, never reviewed yet
    shared = client.get("/api/v1/connections/shared/map/review", headers=auth(world["a"])).json
    assert shared["due"] is True and shared["last_reviewed"] is None
    assert client.get("/api/v1/workspace/map/review", headers=auth(world["a"])).json == shared
    marked = client.post("/api/v1/connections/shared/map/reviewed", headers=auth(world["a"]))
    assert marked.status_code == 200 and marked.json["due"] is False
    assert client.get("/api/v1/workspace/map/review", headers=auth(world["a"])).json["due"] is False
    # another tenant's workspace is untouched, and it cannot reach tenant a's connections
    assert client.get("/api/v1/workspace/map/review", headers=auth(world["b"])).json["due"] is True
    assert client.post("/api/v1/connections/own/map/reviewed", headers=auth(world["b"])).status_code == 404
    assert client.post("/api/v1/workspace/map/reviewed", headers=auth(world["b"])).json["due"] is False


def test_the_review_period_in_the_map_and_in_the_versions(app, world):
    client = app.test_client()
    data = map_to_dict(default_map())
    data["review"] = {"every_days": 14}
    version = put_map(client, world, data, "fortnightly")
    assert client.get("/api/v1/connections/own/map/review", headers=auth(world["a"])).json["every_days"] == 14
    versions = client.get("/api/v1/connections/own/map/versions", headers=auth(world["a"])).json["versions"]
    assert versions[0]["version"] == version
    assert versions[0]["changes"] == [{"section": "settings", "kind": "added", "subject": "Review",
                                       "before": None, "after": "every_days: 14"}]
    bad = dict(data, review={"every_days": 0})
    res = client.put("/api/v1/connections/own/map", headers=auth(world["a"]), json={"map": bad})
    assert res.status_code == 422
    assert [d["path"] for d in res.json["error"]["details"]] == ["review.every_days"]
    shown = client.get("/api/v1/connections/own/map", headers=auth(world["a"])).json
    assert yaml.safe_load(shown["document"])["review"] == {"every_days": 14}
