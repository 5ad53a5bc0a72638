"""The mapping editor: real CRM stages, validation paths, preview, import/export, history."""
from __future__ import annotations

import copy
import html
import io
import json
import re

import pytest
import yaml

from integration.map_review import apply_map
from integration.store.connections import connection_by_id, create_connection
from integration.store.tenancy import tenant_for_token
from integration.sync.map_in_force import connection_map
from mapping import default_map, map_to_dict, map_to_yaml, parse_map
from tests.ui.conftest import EMAIL


@pytest.fixture()
def map_data():
    """The default map as the editor's script sends it."""
    return map_to_dict(default_map())


def save(world, data, comment="test"):
    """Store ``data`` as the connection's next map version; its number."""
    with world.services.session() as db:
        return apply_map(db, world.connection_id, yaml.safe_dump(data, sort_keys=False), author="test",
                         comment=comment).version


def editor(client, world):
    return client.get(f"/connections/{world.connection_id}/map").get_data(as_text=True)


def pick_rows(page):
    """(data-path, data-value, chosen journey key) of every stage picker, in page order."""
    rows = []
    for match in re.finditer(r'<select class="stage-pick" data-path="([^"]+)".*?data-value="([^"]+)"'
                             r'.*?</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', match.group(0))
        rows.append((html.unescape(match.group(1)), html.unescape(match.group(2)),
                     chosen.group(1) if chosen else None))
    return rows


def test_editor_lists_every_real_stage_in_crm_order(client, world, map_data):
    save(world, map_data, "default")
    with world.services.session() as db:
        conn = connection_by_id(db, world.connection_id)
    real = world.services.open_connector(conn).stages()
    objects = list(dict.fromkeys((s.object, s.pipeline) for s in real))
    stages = [s for key in objects
              for s in sorted((s for s in real if (s.object, s.pipeline) == key), key=lambda s: s.order)]
    rows = pick_rows(editor(client, world))
    assert [value for _, value, _ in rows] == [s.value for s in stages]
    jmap = default_map()
    assert [key for _, _, key in rows] == [jmap.lookup("hubspot", s.object, s.value, s.pipeline)
                                           for s in stages]


def test_won_and_lost_stages_are_marked(client, world, map_data):
    save(world, map_data)
    page = editor(client, world)
    won = re.search(r"<code>closedwon</code></td>\s*<td>(.*?)</td>", page).group(1)
    lost = re.search(r"<code>closedlost</code></td>\s*<td>(.*?)</td>", page).group(1)
    assert "Won" in won and "Closed, lost" in lost


def test_unmapped_stage_is_highlighted(client, world, map_data):
    del map_data["sources"]["hubspot"]["deal"]["pipelines"]["default"]["qualifiedtobuy"]
    save(world, map_data, "drop qualifiedtobuy")
    page = editor(client, world)
    row = re.search(r'<tr class="([^"]*)">(?:(?!</tr>).)*<code>qualifiedtobuy</code>', page, re.S)
    assert row.group(1) == "unmapped"
    assert "1 CRM stage(s) are not mapped" in page
    assert [v for v in pick_rows(page) if v[1] == "qualifiedtobuy"][0][2] is None


def test_every_validation_path_points_at_an_editor_field(client, world, map_data):
    save(world, map_data)
    bad = copy.deepcopy(map_data)
    bad["stages"][2]["expected_days"] = -3
    bad["sources"]["hubspot"]["deal"]["pipelines"]["default"]["qualifiedtobuy"] = "nowhere"
    response = client.put(f"/api/v1/connections/{world.connection_id}/map",
                          json={"map": bad, "comment": "broken"},
                          headers={"X-CSRF-Token": client.csrf})
    assert response.status_code == 422
    paths = {d["path"] for d in response.get_json()["error"]["details"]}
    page = editor(client, world)
    fields = {html.unescape(p) for p in re.findall(r'data-path="([^"]+)"', page)}
    assert paths and paths <= fields, paths - fields


def test_editor_keeps_the_map_in_its_own_order(client, world, map_data):
    save(world, map_data)
    embedded = re.search(r'<script type="application/json" id="map-data">(.*?)</script>',
                         editor(client, world), re.S).group(1)
    stages = json.loads(embedded)["sources"]["salesforce"]["opportunity"]["stages"]
    assert list(stages) == list(map_data["sources"]["salesforce"]["opportunity"]["stages"])
    assert list(stages) != sorted(stages)


def test_editor_names_the_signed_in_user_as_author(client, world):
    assert f'data-user="{EMAIL}"' in editor(client, world)


def figure(fragment, element_id):
    return int(re.search(rf'id="{element_id}">([\d,]+)<', fragment).group(1).replace(",", ""))


def test_preview_shows_the_dry_run_of_the_edited_map(client, world, map_data):
    save(world, map_data)
    edited = copy.deepcopy(map_data)
    for stage in edited["stages"]:
        stage["expected_days"] = 1
    url = f"/connections/{world.connection_id}/map/preview"
    fragment = client.post(url, json={"map": edited}, headers={"X-CSRF-Token": client.csrf})
    assert fragment.status_code == 200
    text = fragment.get_data(as_text=True)
    api = client.post(f"/api/v1/connections/{world.connection_id}/map/preview",
                      json={"map": edited}, headers={"X-CSRF-Token": client.csrf}).get_json()
    assert api["turn_stalled"]["count"] > 0
    assert figure(text, "preview-turn-stalled") == api["turn_stalled"]["count"]
    assert figure(text, "preview-rewritten") == api["rewritten"]
    assert "<svg" in text and "after " in text
    with world.services.session() as db:
        assert connection_map(db, world.connection_id)[0] == parse_map(map_to_yaml(default_map()))


def test_preview_of_an_invalid_map_lists_located_problems(client, world, map_data):
    map_data["stages"][0]["expected_days"] = "soon"
    response = client.post(f"/connections/{world.connection_id}/map/preview",
                           json={"map": map_data}, headers={"X-CSRF-Token": client.csrf})
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert [d["path"] for d in details] == ["stages[0].expected_days"]


def test_preview_needs_the_csrf_header(client, world, map_data):
    response = client.post(f"/connections/{world.connection_id}/map/preview", json={"map": map_data})
    assert response.status_code == 400


def test_export_downloads_the_map_in_force(client, world, map_data):
    map_data["name"] = "Exported map"
    version = save(world, map_data)
    response = client.get(f"/connections/{world.connection_id}/map/export")
    assert response.status_code == 200
    assert f'hubspot-main-map-v{version}.yaml' in response.headers["Content-Disposition"]
    assert parse_map(response.get_data(as_text=True)).name == "Exported map"


def upload(client, world, text, name="journey.yaml", comment=""):
    return client.post(f"/connections/{world.connection_id}/map/import", data={
        "csrf_token": client.csrf, "comment": comment,
        "file": (io.BytesIO(text.encode()), name)}, content_type="multipart/form-data")


def versions(client, world):
    return client.get(f"/api/v1/connections/{world.connection_id}/map/versions").get_json()["versions"]


def test_import_saves_a_version_by_the_signed_in_user(client, world, map_data):
    map_data["name"] = "Imported map"
    response = upload(client, world, yaml.safe_dump(map_data), comment="from the file")
    assert response.status_code == 302 and "saved=" in response.headers["Location"]
    newest = versions(client, world)[0]
    assert (newest["author"], newest["comment"]) == (EMAIL, "from the file")


def test_import_of_a_broken_file_lists_problems_with_lines_and_saves_nothing(client, world):
    before = len(versions(client, world))
    text = "version: 1\nname: Broken\nstages:\n  - key: awareness\n    label: A\n    expected_days: -2\n"
    response = upload(client, world, text, name="broken.yaml")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "broken.yaml:6: stages[0].expected_days" in page
    assert len(versions(client, world)) == before


def test_history_shows_who_changed_what_with_a_diff(client, world, map_data):
    save(world, map_data, "baseline")
    map_data["stages"][3]["expected_days"] = 99
    version = save(world, map_data, "purchase takes longer")
    page = client.get(f"/connections/{world.connection_id}/map/history?version={version}")
    text = page.get_data(as_text=True)
    assert "purchase takes longer" in text
    assert re.search(r'<span class="remove">-\s+expected_days: 14</span>', text)
    assert re.search(r'<span class="add">\+\s+expected_days: 99</span>', text)
    assert f'data-version="{version}"' not in text
    older = client.get(f"/connections/{world.connection_id}/map/history?version={version - 1}")
    assert f'data-version="{version - 1}"' in older.get_data(as_text=True)


def test_editor_still_opens_when_the_crm_refuses_the_token(client, world):
    with world.services.session() as db:
        tenant_id = tenant_for_token(db, world.token)
        conn_id = create_connection(  # a token revoked after it was connected
            db, world.services.secret_box, tenant_id=tenant_id, name="revoked", crm="hubspot",
            settings={"base_url": world.sandbox.info()["base_url"]},
            secrets={"access_token": "pat-na1-revoked"}).id
    page = client.get(f"/connections/{conn_id}/map")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Could not read the stages from the CRM" in text
    assert 'data-path="stages[0].expected_days"' in text
