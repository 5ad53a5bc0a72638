"""What RevOps and admins do in the pages, in a real Chromium against the running service and
both sandboxes: install through OAuth, provision, edit a map (an invalid value first), preview,
save, see the dashboard change after a sync, and retry a parked write-back."""
from __future__ import annotations

import re

import pytest
import requests
from tests.support import wait_for

pytestmark = pytest.mark.browser


def api(live, method, path, **kwargs):
    """Call the REST API with the admin token; the decoded JSON."""
    response = requests.request(method, f"{live['base_url']}/api/v1/{path}", timeout=30,
                                headers={"Authorization": f"Bearer {live['token']}"}, **kwargs)
    response.raise_for_status()
    return response.json() if response.content else None


def last_run_id(live, conn_id):
    runs = api(live, "GET", f"connections/{conn_id}/runs?limit=1")["runs"]
    return runs[0]["id"] if runs else 0


def finished_run_after(live, conn_id, run_id):
    runs = api(live, "GET", f"connections/{conn_id}/runs?limit=20")["runs"]
    done = [r for r in runs if r["id"] > run_id and r["status"] not in ("queued", "running")]
    return done[0] if done else None


def test_sign_in_page(browser, live_service, shot):
    context = browser.new_context(base_url=live_service["base_url"], viewport={"width": 1360, "height": 760})
    tab = context.new_page()
    tab.goto("/connections/1/dashboard")
    assert "/sign-in" in tab.url
    tab.fill('#password-form input[name="email"]', live_service["email"])
    tab.fill('#password-form input[name="password"]', "not the password")
    tab.click('#password-form button[type="submit"]')
    assert "did not match an account" in tab.inner_text(".flash-error")
    shot(tab, "sign-in")
    context.close()


def _second_workspace(live, crm):
    """A user and an admin token of a workspace of its own, where ``crm``'s sandbox account is not
    connected yet (the demo workspace holds it already)."""
    from integration.store.tenancy import create_user, get_or_create_tenant, issue_token
    with live["services"].session() as session:
        tenant = get_or_create_tenant(session, f"second-{crm}")
        email, password = f"admin-{crm}@second.example", "second-workspace-password"
        create_user(session, tenant.id, email, password)
        token = issue_token(session, tenant.id)
    return {**live, "email": email, "password": password, "token": token}


def _oauth_install(tab, crm, name):
    tab.goto("/install")
    card = tab.locator(f"#install-{crm}")
    card.locator('input[name="name"]').first.fill(name)
    card.get_by_role("button", name=re.compile("^Connect with")).click()


def _sign_in(tab, who):
    tab.goto("/sign-in")
    tab.fill('#password-form input[name="email"]', who["email"])
    tab.fill('#password-form input[name="password"]', who["password"])
    tab.click('#password-form button[type="submit"]')
    tab.wait_for_url(lambda url: "/sign-in" not in url)


@pytest.mark.parametrize("crm", ["hubspot", "salesforce"])
def test_install_through_oauth_then_provision_and_schedule(browser, live_service, shot, crm):
    context = browser.new_context(base_url=live_service["base_url"], ignore_https_errors=True,
                                  viewport={"width": 1360, "height": 900})
    tab = context.new_page()
    # The demo workspace holds this CRM account already: connecting it again is refused, naming
    # the connection that has it.
    _sign_in(tab, live_service)
    _oauth_install(tab, crm, f"{crm}-again")
    tab.wait_for_load_state()
    assert "is already connected as" in tab.inner_text("body")
    context.clear_cookies()

    workspace = _second_workspace(live_service, crm)
    _sign_in(tab, workspace)
    if crm == "hubspot":
        tab.goto("/install")
        shot(tab, "install")
    _oauth_install(tab, crm, f"{crm}-oauth")
    tab.wait_for_url(re.compile(r"/connections/\d+/setup$"))
    assert "through OAuth" in tab.inner_text(".flash")
    conn_id = int(re.search(r"/connections/(\d+)/setup", tab.url).group(1))
    live_service = workspace
    connection = api(live_service, "GET", f"connections/{conn_id}")
    assert connection["name"] == f"{crm}-oauth" and connection["crm"] == crm

    tab.click("#provision")
    tab.wait_for_selector("#provisioned")
    rows = tab.locator("#provisioned tbody tr")
    assert rows.count() >= 6
    assert re.search(r"\d+ field\(s\) created, \d+ already there", tab.inner_text("#provision-result"))

    tab.select_option('select[name="sync_interval_seconds"]', "900")
    tab.click('#interval-form button[type="submit"]')
    tab.wait_for_selector("#interval-form .result.ok-text")
    assert api(live_service, "GET", f"connections/{conn_id}")["sync_interval_seconds"] == 900
    shot(tab, f"setup-{crm}")
    context.close()


def funnel_reached(tab, label):
    """The 'reached' figure the funnel chart writes beside ``label``'s bar."""
    bar = tab.locator("#funnel g.bar", has=tab.locator("text.label", has_text=re.compile(f"^{label}$")))
    return int(bar.locator("text.value").text_content().split()[0].replace(",", ""))


def test_edit_preview_save_and_see_the_dashboard_change_after_sync(page, live_service, shot):
    conn_id = live_service["connections"]["hubspot"]
    page.goto(f"/connections/{conn_id}/dashboard")
    decision_before = funnel_reached(page, "Decision")

    page.goto(f"/connections/{conn_id}/map")
    days = page.locator('[data-path="stages[2].expected_days"]')
    days.fill("-5")
    page.click("#save-button")
    error = page.locator('[data-path="stages[2].expected_days"] + .field-error')
    error.wait_for()
    assert "positive number" in error.inner_text()
    assert "nothing was saved" in page.inner_text("#problems")
    shot(page, "editor-error", full_page=False)

    days.fill("3")
    picker = page.locator('select.stage-pick[data-value="qualifiedtobuy"]')
    picker.select_option("decision")
    page.click("#preview-button")
    page.wait_for_selector("#preview-figures")
    assert page.locator('[data-path="stages[2].expected_days"] + .field-error').count() == 0
    assert int(page.inner_text("#preview-rewritten").replace(",", "")) > 0
    assert int(page.inner_text("#preview-turn-stalled").replace(",", "")) > 0
    shot(page, "editor-preview", element="#preview")

    page.fill("#comment", "Qualified-to-buy deals are in the decision stage; decisions take 3 days")
    page.click("#save-button")
    page.wait_for_selector("#saved-flash")
    newest = api(live_service, "GET", f"connections/{conn_id}/map/versions")["versions"][0]
    assert newest["author"] == live_service["email"]
    assert newest["comment"].startswith("Qualified-to-buy deals")
    page.goto(f"/connections/{conn_id}/map")
    shot(page, "editor", full_page=False)

    page.goto(f"/connections/{conn_id}/map/history")
    assert live_service["email"] in page.inner_text("#versions")
    added = page.locator("#diff .add").all_inner_texts()
    assert any("qualifiedtobuy: decision" in line for line in added), added
    shot(page, "history")

    before_run = last_run_id(live_service, conn_id)
    page.goto(f"/connections/{conn_id}/health")
    page.click("#sync-now")
    page.wait_for_selector("#sync-result:has-text('queued')")
    run = wait_for(lambda: finished_run_after(live_service, conn_id, before_run), timeout=90)
    assert run["status"] == "succeeded", run
    page.goto(f"/connections/{conn_id}/dashboard")
    assert funnel_reached(page, "Decision") > decision_before
    shot(page, "dashboard")
    page.click("#stalled-table tbody tr:first-child td:first-child a")
    page.wait_for_selector("#timeline")
    shot(page, "record")


@pytest.fixture()
def locked_opportunity(live_service):
    """A Salesforce opportunity in Negotiation/Review that the sandbox refuses to update
    (UNABLE_TO_LOCK_ROW) until released; write-backs park after one failure.
    Yields (connection id, record, release)."""
    services = live_service["services"]
    original = services.settings
    services.settings = original.with_overrides(outbox_max_attempts=1)
    info = live_service["sandboxes"]["salesforce"].info()
    conn_id = live_service["connections"]["salesforce"]
    record = [r for r in api(live_service, "GET", f"connections/{conn_id}/records?object=opportunity"
                                                  f"&stage=purchase&sort=amount&limit=100")["records"]
              if r["crm_stage"] == "Negotiation/Review"][0]

    def faults(body):
        requests.post(f"{info['instance_url']}/__sandbox__/faults", json=body, verify=info["ca_file"],
                      timeout=10).raise_for_status()

    faults({"lock_ids": [record["id"]]})
    yield conn_id, record, lambda: faults({"lock_ids": []})
    faults({"lock_ids": []})
    services.settings = original


def sandbox_opportunity(live, record_id):
    """The opportunity as the Salesforce sandbox holds it (read over its REST API)."""
    info = live["sandboxes"]["salesforce"].info()
    response = requests.get(f"{info['instance_url']}/services/data/v59.0/sobjects/Opportunity/{record_id}",
                            headers={"Authorization": f"Bearer {info['access_token']}"},
                            verify=info["ca_file"], timeout=10)
    response.raise_for_status()
    return response.json()


def test_retry_a_parked_write_back(page, live_service, shot, locked_opportunity):
    conn_id, record, release = locked_opportunity
    jmap = api(live_service, "GET", f"connections/{conn_id}/map")["map"]
    jmap["sources"]["salesforce"]["opportunity"]["stages"]["Negotiation/Review"] = "decision"
    api(live_service, "PUT", f"connections/{conn_id}/map",
        json={"map": jmap, "comment": "Negotiation is still the decision"})
    api(live_service, "POST", f"connections/{conn_id}/sync", json={})
    parked = wait_for(lambda: api(live_service, "GET", f"connections/{conn_id}/outbox?status=parked")["items"],
                      timeout=90)
    assert [(p["crm_id"], p["error_code"]) for p in parked] == [(record["id"], "UNABLE_TO_LOCK_ROW")]
    assert sandbox_opportunity(live_service, record["id"])["Journey_Stage__c"] != "decision"

    page.goto(f"/connections/{conn_id}/health")
    assert "UNABLE_TO_LOCK_ROW" in page.inner_text("#errors")
    assert page.inner_text("#parked-count") == "1"
    assert "Last run partial: 1 write-back(s) refused" in page.inner_text(".page-head")
    shot(page, "health")

    release()
    page.click("#retry-button")
    page.wait_for_selector("#retry-form .result.ok-text")
    assert "1 item(s) will be retried" in page.inner_text("#retry-form .result")
    wait_for(lambda: not api(live_service, "GET", f"connections/{conn_id}/outbox")["items"], timeout=90)
    assert sandbox_opportunity(live_service, record["id"])["Journey_Stage__c"] == "decision"
    page.reload()
    assert page.locator("#no-parked").is_visible()


def test_persona_and_action_rules_are_edited_as_rows(page, live_service):
    conn_id = live_service["connections"]["hubspot"]
    page.goto(f"/connections/{conn_id}/map")
    rules = page.locator("#personas tbody tr").count()
    page.click('button.add-row[data-target="personas"]')
    row = page.locator("#personas tbody tr").last
    row.locator(".p-key").fill("Champion!")
    row.locator(".p-label").fill("Internal champion")
    row.locator(".c-field").fill("job_title")
    row.locator(".c-op").select_option("contains")
    row.locator(".c-value").fill('["champion", "evangelist"]')
    page.click('button.add-row[data-target="actions"]')
    action = page.locator("#actions tbody tr").last
    action.locator(".a-action").fill("Send the champion kit")
    action.locator(".a-stage").select_option("decision")
    # the persona picker offers the persona as typed, even before it is a valid key
    action.locator(".a-persona").select_option("Champion!")
    page.click("#save-button")
    error = page.locator(f'[data-path="personas[{rules}].key"] + .field-error')
    error.wait_for()
    assert "lowercase identifier" in error.inner_text()
    assert "Persona “Internal champion” · Key: " in page.inner_text("#problems")

    row.locator(".p-key").fill("champion")
    # the picker follows the key: the old one stays chosen, marked, until another is picked
    assert action.locator(".a-persona option:checked").inner_text() == "Champion! (not a persona of this map)"
    action.locator(".a-persona").select_option("champion")
    page.fill("#comment", "Champions get their own kit")
    page.click("#save-button")
    page.wait_for_selector("#saved-flash")
    saved = api(live_service, "GET", f"connections/{conn_id}/map")["map"]
    assert saved["personas"][rules] == {"key": "champion", "label": "Internal champion", "when": [
        {"field": "job_title", "op": "contains", "value": ["champion", "evangelist"]}]}
    assert saved["actions"][-1] == {"action": "Send the champion kit", "stage": "decision",
                                    "persona": "champion"}


def test_restore_an_older_map_version(page, live_service):
    conn_id = live_service["connections"]["hubspot"]
    renamed = api(live_service, "GET", f"connections/{conn_id}/map")["map"]
    renamed["name"] = "Renamed before the restore"
    api(live_service, "PUT", f"connections/{conn_id}/map", json={"map": renamed, "comment": "rename"})
    versions = api(live_service, "GET", f"connections/{conn_id}/map/versions")["versions"]
    first = api(live_service, "GET", f"connections/{conn_id}/map/versions/1")["document"]
    page.goto(f"/connections/{conn_id}/map/history?version=1")
    page.click("#restore")
    page.wait_for_selector("#restore-preview #preview-figures")
    assert "Settings · Name: Renamed before the restore → " in page.inner_text("#preview-changes")
    # the preview saved nothing
    assert api(live_service, "GET", f"connections/{conn_id}/map/versions")["versions"] == versions
    page.click("#restore-confirm")
    page.wait_for_selector("#saved-flash")
    newest = api(live_service, "GET", f"connections/{conn_id}/map/versions")["versions"][0]
    assert newest["version"] == versions[0]["version"] + 1
    assert (newest["author"], newest["comment"]) == (live_service["email"], "Restored version 1")
    assert api(live_service, "GET", f"connections/{conn_id}/map")["document"] == first


def test_the_workspace_a_person_across_crms_and_the_workspace_map(page, live_service, shot):
    page.goto("/workspace")
    assert "People" in page.inner_text("#funnel-people h2")
    shot(page, "workspace")
    # an earlier test connected the same HubSpot portal a second time (OAuth install), so some
    # people are linked across two HubSpot connections: open one who is in both CRMs
    for href in page.locator("#linked-people a").evaluate_all("links => links.map(a => a.href)"):
        page.goto(href)
        crms = [t.lower() for t in page.locator("#linked-records td:first-child .crm").all_inner_texts()]
        if "salesforce" in crms:
            break
    assert {"salesforce", "hubspot"} <= set(crms)
    assert page.locator("#person-timeline tbody tr").count() >= 2
    shot(page, "person")
    page.goto("/workspace/map")
    picks = page.locator("select.stage-pick")
    assert {picks.nth(i).get_attribute("data-crm") for i in range(picks.count())} == {"salesforce", "hubspot"}
    # one picker per connection of the CRM (the OAuth install test added a second one)
    for pick in page.locator('select.stage-pick[data-crm="salesforce"][data-value="Qualification"]').all():
        pick.select_option("awareness")
    page.fill("#comment", "Qualification is still awareness")
    page.click("#save-button")
    page.wait_for_url(re.compile(r"/workspace/map\?saved=\d+"))
    saved = api(live_service, "GET", "workspace/map")
    assert saved["map"]["sources"]["salesforce"]["opportunity"]["stages"]["Qualification"] == "awareness"
    shot(page, "workspace-map", full_page=False)
