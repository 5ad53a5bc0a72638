"""A living map: what each version changed, the numbers before and after it, review reminders."""
from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import yaml
from sqlalchemy import func, update
from sqlmodel import select

from integration.map_effect import version_effect
from integration.map_review import apply_map
from integration.store.connections import create_connection
from integration.store.map_versions import map_version
from integration.store.models import JourneyEvent, MapReview, MapVersion
from integration.store.tenancy import tenant_for_token
from integration.store.types import utcnow
from integration.sync.map_in_force import connection_map
from mapping import default_map, map_to_dict


def save(world, data, comment="test"):
    with world.services.session() as db:
        return apply_map(db, world.connection_id, yaml.safe_dump(data, sort_keys=False),
                         author="test", comment=comment).version


def age_reviews(world, days):
    """Make every map version and review of the world look ``days`` old."""
    then = utcnow() - timedelta(days=days)
    with world.services.session() as db:
        db.exec(update(MapVersion).values(created_at=then))
        db.exec(update(MapReview).values(reviewed_at=then))


def history(client, world, version=None):
    query = f"?version={version}" if version else ""
    return client.get(f"/connections/{world.connection_id}/map/history{query}").get_data(as_text=True)


def text_of(fragment: str) -> str:
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())
    return re.sub(r" ([:,.])", r"\1", text)


def test_each_version_says_what_it_changed(client, world):
    data = map_to_dict(default_map())
    save(world, data, "baseline")
    data["stages"][3]["expected_days"] = 99
    data["sources"]["hubspot"]["deal"]["pipelines"]["default"]["contractsent"] = "decision"
    version = save(world, data, "purchase takes longer")
    page = history(client, world)
    versions = text_of(re.search(r'<table [^>]*id="versions">.*?</table>', page, re.S)[0])
    assert f"v{version} in force" in versions
    assert "1 expected days, 1 CRM stage mapping changed purchase takes longer" in versions
    changes = text_of(re.search(r'<table [^>]*id="changes">.*?</table>', page, re.S)[0])
    assert "Expected days changed Purchase 14 99" in changes
    assert "Mappings changed hubspot deal · pipeline default · contractsent purchase decision" in changes
    # The version before it changed nothing against its own predecessor.
    assert "No change against the version before." in history(client, world, version - 1)


def test_history_shows_conversion_and_time_before_and_after_a_version(client, world):
    with world.services.session() as db:
        # The version takes effect just after the synced book's latest stage entry.
        latest = db.exec(select(func.max(JourneyEvent.occurred_at))
                         .where(JourneyEvent.connection_id == world.connection_id)).one()
        jmap, version = connection_map(db, world.connection_id)
        row = map_version(db, world.connection_id, version)
        row.created_at = latest + timedelta(seconds=1)
        db.add(row)
    with world.services.session() as db:
        row = map_version(db, world.connection_id, version)
        effect = version_effect(db, [world.connection_id], jmap, row.created_at, utcnow())
    page = history(client, world)
    table = text_of(re.search(r'<table [^>]*id="effect">.*?</table>', page, re.S)[0])
    [figures] = effect["connections"]
    assert re.search(r"Figures as of \d{4}-\d\d-\d\d \d\d:\d\d UTC", page)
    assert [s["label"] for s in figures["stages"]] == [s.label for s in jmap.stages]
    for stage in figures["stages"]:
        before, after = stage["before"], stage["after"]
        assert f"{stage['label']} {before['reached']:,} → {after['reached']:,}" in table
    assert figures["stages"][0]["before"]["reached"] > 0
    assert all(s["after"]["reached"] == 0 for s in figures["stages"])


def test_an_older_version_offers_a_restore_with_preview_and_a_diff_against_the_map_in_force(client, world):
    data = map_to_dict(default_map())
    save(world, data, "one")
    data["stages"][0]["expected_days"] = 3
    version = save(world, data, "two")
    page = history(client, world, version - 1)
    document = json.loads(html.unescape(
        re.search(r'<script type="application/json" id="restore-document">(.*?)</script>', page, re.S)[1]))
    with world.services.session() as db:
        assert document == map_version(db, world.connection_id, version - 1).document
    assert 'id="restore-confirm" hidden' in page
    in_force = re.search(r'<pre class="diff" id="diff-in-force">(.*?)</pre>', page, re.S)[1]
    assert re.search(r'<span class="remove">-\s+expected_days: 3</span>', in_force)
    assert re.search(r'<span class="add">\+\s+expected_days: 14</span>', in_force)
    assert 'id="restore-document"' not in history(client, world, version)


def test_start_page_reminds_of_a_review_and_mark_reviewed_clears_it(client, world):
    age_reviews(world, 91)
    home = client.get("/").get_data(as_text=True)
    reminder = re.search(r'<section class="card review-due" id="review-reminders">.*?</section>', home, re.S)
    assert reminder, "no reminder after 91 days"
    assert "hubspot-main's own map" in text_of(reminder[0])
    assert "1 day past its 90-day review" in text_of(reminder[0])
    assert f'href="/connections/{world.connection_id}/map"' in reminder[0]
    response = client.post(f"/connections/{world.connection_id}/map/reviewed",
                           data={"csrf_token": client.csrf, "back": "home"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert 'id="review-reminders"' not in client.get("/").get_data(as_text=True)
    page = history(client, world)
    assert "next review due" in text_of(re.search(r'<section [^>]*id="review">.*?</section>', page, re.S)[0])


def test_the_review_period_comes_from_the_map(client, world):
    data = map_to_dict(default_map())
    data["review"] = {"every_days": 30}
    save(world, data, "monthly reviews")
    assert 'id="review-reminders"' not in client.get("/").get_data(as_text=True)
    age_reviews(world, 31)
    home = client.get("/").get_data(as_text=True)
    assert "past its 30-day review" in text_of(home)


def test_a_saved_version_counts_as_a_review(client, world):
    age_reviews(world, 200)
    assert 'id="review-reminders"' in client.get("/").get_data(as_text=True)
    save(world, map_to_dict(default_map()), "reviewed by saving")
    assert 'id="review-reminders"' not in client.get("/").get_data(as_text=True)


def test_workspace_map_reminder_history_and_review(client, world):
    with world.services.session() as db:
        tenant_id = tenant_for_token(db, world.token)
        create_connection(db, world.services.secret_box, tenant_id=tenant_id, name="uses-workspace",
                          crm="hubspot", settings={}, secrets={})
    home = client.get("/").get_data(as_text=True)
    reminder = text_of(re.search(r'id="review-reminders">.*?</section>', home, re.S)[0])
    assert "The workspace map “B2B default”: never reviewed (every 90 days)" in reminder
    page = client.get("/workspace/map/history").get_data(as_text=True)
    assert "Map history · workspace" in page and "No version saved yet." in page
    response = client.post("/workspace/map/reviewed", data={"csrf_token": client.csrf})
    assert response.status_code == 302 and response.headers["Location"].endswith("/workspace/map/history")
    assert "The workspace map" not in text_of(client.get("/").get_data(as_text=True))
    # A workspace version: its history shows it, with the figures of the connection it serves.
    with world.services.session() as db:
        apply_map(db, None, yaml.safe_dump(map_to_dict(default_map())), author="test",
                  comment="workspace v1", tenant_id=tenant_id)
    page = client.get("/workspace/map/history").get_data(as_text=True)
    versions = text_of(re.search(r'id="versions">.*?</table>', page, re.S)[0])
    assert "v1 in force" in versions and "First version workspace v1" in versions
    assert re.search(r'<table [^>]*id="effect">', page)


def test_marking_another_tenants_map_reviewed_is_refused(client, world):
    response = client.post(f"/connections/{world.other_connection_id}/map/reviewed",
                           data={"csrf_token": client.csrf})
    assert response.status_code == 404
    assert client.post(f"/connections/{world.connection_id}/map/reviewed").status_code == 400


def test_preview_lists_the_changes_against_the_map_in_force(client, world):
    data = map_to_dict(default_map())
    save(world, data, "in force")
    data["stages"][1]["expected_days"] = 5
    response = client.post(f"/connections/{world.connection_id}/map/preview", json={"map": data},
                           headers={"X-CSRF-Token": client.csrf})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text_of(re.search(r'id="preview-summary">(.*?)</p>', fragment, re.S)[1]) == \
        "1 expected days changed:"
    assert text_of(re.search(r'<ul class="changes" id="preview-changes">.*?</ul>', fragment, re.S)[0]) == \
        "changed Expected days · Consideration: 21 → 5"
    same = client.post(f"/connections/{world.connection_id}/map/preview",
                       json={"map": map_to_dict(default_map())}, headers={"X-CSRF-Token": client.csrf})
    assert "The same as the map in force." in same.get_data(as_text=True)


def test_action_rules_pick_their_persona_from_the_maps_personas(client, world):
    data = map_to_dict(default_map())
    data["actions"][0]["persona"] = data["personas"][0]["key"]
    save(world, data, "persona on the first action")
    page = client.get(f"/connections/{world.connection_id}/map").get_data(as_text=True)
    first = re.search(r'<select class="a-persona".*?</select>', page, re.S)[0]
    options = re.findall(r'<option value="([^"]*)" ?(selected)?>([^<]*)</option>', first)
    jmap = default_map()
    keys = list(dict.fromkeys([p.key for p in jmap.personas] + [jmap.default_persona]))
    assert [(key, label) for key, _, label in options] == \
        [("", "any"), *((key, jmap.persona_label(key)) for key in keys)]
    assert [key for key, selected, _ in options if selected] == [jmap.personas[0].key]
