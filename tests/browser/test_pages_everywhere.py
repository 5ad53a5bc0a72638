"""Every page at a phone's width (390 px) without sideways scrolling, and the mapping editor's
unsaved-changes guard, in a real Chromium against the running service."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import select

from integration.store.models import MapReview, MapVersion, RecordState
from integration.store.types import utcnow

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
#: GET routes of the pages blueprint that are not pages to look at, and why.
NOT_PAGES = {"ui.static": "the stylesheet and scripts",
             "ui.map_export": "a file download",
             "ui.install_callback": "the OAuth redirect target, needs the CRM's code",
             "ui.people_search": "a redirect to a person's page"}
#: Pages that take a query parameter to show their fullest state.
QUERIES = {"ui.map_history": "?version=1", "ui.workspace_map_history": "?version=1"}

# Elements that stick out past the right edge, outside any box that scrolls on its own.
OVERFLOWING = """(width) => {
  const scrollsItself = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (["auto", "scroll"].includes(style.overflowX) && p.scrollWidth > p.clientWidth) return true;
    }
    return false;
  };
  return [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > width + 0.5 && !scrollsItself(el))
    .slice(0, 5)
    .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${[...el.classList].join(".")}`
                 + ` right=${Math.round(el.getBoundingClientRect().right)}`);
}"""


# Chart text smaller than MIN_CHART_TEXT px as drawn (its font size times the SVG's scale).
MIN_CHART_TEXT = 11
SMALL_CHART_TEXT = """(least) => [...document.querySelectorAll("svg.chart text")]
  .filter((el) => el.getClientRects().length)
  .map((el) => [el.textContent.trim(), parseFloat(getComputedStyle(el).fontSize) * el.getScreenCTM().a])
  .filter(([, size]) => size < least)
  .slice(0, 5)"""
#: Pages that draw charts at the phone's width (checked to hold some).
CHART_PAGES = {"ui.dashboard", "ui.journeys_page", "ui.workspace_dashboard", "ui.record_page"}


def path_values(live: dict[str, Any]) -> dict[str, str]:
    """A value for every path parameter of a page: the demo's HubSpot connection, one of its
    stalled deals, and a contact's e-mail address."""
    conn_id = live["connections"]["hubspot"]
    with live["services"].session() as db:
        deal = db.exec(select(RecordState).where(RecordState.connection_id == conn_id,
                                                 RecordState.object == "deal",
                                                 RecordState.stalled.is_(True))).first()
        contacts = db.exec(select(RecordState).where(RecordState.connection_id == conn_id,
                                                     RecordState.object == "contact")).all()
    email = next(c.record["identity"]["email"] for c in contacts
                 if (c.record.get("identity") or {}).get("email"))
    return {"connection_id": str(conn_id), "object": deal.object, "crm_id": deal.crm_id,
            "email": email}


def page_paths(live: dict[str, Any]) -> list[tuple[str, str]]:
    """(endpoint, path) of every page the pages blueprint serves; a page with a path parameter
    this test cannot fill fails the test, so a new page is never left unchecked."""
    values = path_values(live)
    app = live["running"].server.app
    pages = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("ui.") or "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        unknown = set(rule.arguments) - set(values)
        assert not unknown, f"{rule.rule}: add a value for {unknown} (or list it in NOT_PAGES)"
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", values[name], path)
        pages.append((rule.endpoint, path + QUERIES.get(rule.endpoint, "")))
    return sorted(pages)


@pytest.fixture()
def phone(browser, live_service):
    """A phone-sized context (390 px wide, touch): signed out, and a page signed in."""
    context = browser.new_context(base_url=live_service["base_url"], viewport=PHONE,
                                  is_mobile=True, has_touch=True, device_scale_factor=2)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab, live_service
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def sign_in(tab, live):
    tab.goto("/sign-in")
    tab.fill('#password-form input[name="email"]', live["email"])
    tab.fill('#password-form input[name="password"]', live["password"])
    tab.click('#password-form button[type="submit"]')
    tab.wait_for_url(lambda url: "/sign-in" not in url)


def test_every_page_fits_a_phone_without_sideways_scrolling(phone, shot):
    """No page scrolls sideways at 390 px, and chart text stays readable there."""
    tab, live = phone
    tab.goto("/sign-in")
    too_wide, small_text = {}, {}
    width = tab.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        too_wide["/sign-in"] = (width, tab.evaluate(OVERFLOWING, PHONE["width"]))
    sign_in(tab, live)
    paths = page_paths(live)
    assert {"ui.home", "ui.dashboard", "ui.map_editor", "ui.map_history", "ui.health",
            "ui.workspace_dashboard", "ui.workspace_map_editor"} <= {e for e, _ in paths}
    for endpoint, path in paths:
        response = tab.goto(path)
        assert response.status < 400, f"{path}: HTTP {response.status}"
        width = tab.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[path] = (width, tab.evaluate(OVERFLOWING, PHONE["width"]))
        if endpoint in CHART_PAGES:
            assert tab.locator("svg.chart text").count() > 0, f"{path}: no chart drawn"
        small = tab.evaluate(SMALL_CHART_TEXT, MIN_CHART_TEXT)
        if small:
            small_text[path] = small
        # Every page as a phone shows it (the first screen), for people to look at.
        shot(tab, f"mobile-{endpoint.removeprefix('ui.').replace('_', '-')}", full_page=False)
    assert not too_wide, f"pages wider than {PHONE['width']} px: {too_wide}"
    assert not small_text, f"chart text under {MIN_CHART_TEXT} px on a phone: {small_text}"


def test_the_filter_bar_folds_behind_a_toggle_on_a_phone(phone, shot):
    tab, live = phone
    sign_in(tab, live)
    conn_id = live["connections"]["hubspot"]
    for path in (f"/connections/{conn_id}/dashboard?period=90d&object=deal", "/workspace?period=90d&object=deal"):
        tab.goto(path)
        toggle = tab.locator(".filters-toggle")
        assert toggle.is_visible() and toggle.inner_text().startswith("Filters (2 active)")
        assert toggle.get_attribute("aria-expanded") == "false"
        assert not tab.locator("#filters").is_visible()
        # folded, the bar leaves the first screen to the figures
        first_figures = tab.locator("main section.card").first.bounding_box()["y"]
        assert first_figures < PHONE["height"] / 2, first_figures
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert tab.locator("#period").is_visible()
        assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        if path.startswith("/workspace"):
            shot(tab, "mobile-workspace-filters", full_page=False)
        # a choice applies at once and keeps the bar folded on the next page
        with tab.expect_navigation():
            tab.select_option("#period", "365d")
        assert "period=365d" in tab.url and "object=deal" in tab.url
        assert not tab.locator("#filters").is_visible()
        toggle.click()
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "false" and not tab.locator("#filters").is_visible()


def test_the_filter_bar_stays_open_on_a_desktop(page, live_service):
    page.goto("/workspace")
    assert page.locator("#period").is_visible()
    assert not page.locator(".filters-toggle").is_visible()


def test_the_editor_warns_before_unsaved_changes_are_lost(page, live_service):
    conn_id = live_service["connections"]["hubspot"]
    dialogs: list[tuple[str, str]] = []
    answer = {"accept": False}

    def on_dialog(dialog):
        dialogs.append((dialog.type, dialog.message))
        dialog.accept() if answer["accept"] else dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(f"/connections/{conn_id}/map")
    # Nothing changed: leaving asks nothing.
    page.click("nav.tabs >> text=Map history")
    page.wait_for_url(re.compile(r"/map/history"))
    assert dialogs == []

    page.goto(f"/connections/{conn_id}/map")
    days = page.locator('[data-path="stages[1].expected_days"]')
    original = days.input_value()
    days.click()
    days.fill("77")
    assert page.locator("#dirty-note").is_visible()
    # A link inside the page asks first; saying no keeps the page and the edit.
    page.click("nav.tabs >> text=Dashboard")
    assert [kind for kind, _ in dialogs] == ["confirm"]
    assert "unsaved changes" in dialogs[0][1]
    assert page.url.endswith(f"/connections/{conn_id}/map") and days.input_value() == "77"
    # Closing or reloading the tab asks through the browser's own prompt.
    page.evaluate("() => { window.location.href = '/'; }")
    page.wait_for_timeout(300)
    assert [kind for kind, _ in dialogs] == ["confirm", "beforeunload"]
    assert page.url.endswith(f"/connections/{conn_id}/map")
    # Undoing the edit makes the form clean again.
    days.fill(original)
    assert not page.locator("#dirty-note").is_visible()
    page.click("nav.tabs >> text=Sync health")
    page.wait_for_url(re.compile(r"/health"))
    assert len(dialogs) == 2

    # Saving leaves the page without asking.
    page.goto(f"/connections/{conn_id}/map")
    days.fill("77")
    page.fill("#comment", "Consideration takes longer")
    page.click("#save-button")
    page.wait_for_selector("#saved-flash")
    assert len(dialogs) == 2
    # A problem is named in the editor's words, not as a map path.
    days.fill("-1")
    page.click("#save-button")
    page.wait_for_selector("#problems li")
    assert page.inner_text("#problems li").startswith("Consideration · Expected days: ")
    # Saying yes to the question leaves.
    answer["accept"] = True
    page.click("nav.tabs >> text=Dashboard")
    page.wait_for_url(re.compile(r"/dashboard"))
    assert [kind for kind, _ in dialogs] == ["confirm", "beforeunload", "confirm"]


def test_the_editor_takes_no_edit_before_its_guard_knows_the_form(page, live_service):
    """Until editor.js has taken the form as loaded, its fields are disabled: an edit made before
    (a slow script, a quick hand) would have become the guard's starting point, unguarded."""
    conn_id = live_service["connections"]["hubspot"]
    page.route("**/editor.js", lambda route: route.abort())  # the script never comes
    page.goto(f"/connections/{conn_id}/map")
    fields = page.locator("#editor input, #editor select, #editor button")
    assert fields.count() > 10
    assert all(fields.nth(i).is_disabled() for i in range(fields.count()))
    page.unroute("**/editor.js")
    page.goto(f"/connections/{conn_id}/map")
    assert all(fields.nth(i).is_enabled() for i in range(fields.count()))


def test_the_start_page_reminds_of_a_map_review_until_it_is_marked(page, live_service, shot):
    conn_id = live_service["connections"]["salesforce"]
    long_ago = utcnow() - timedelta(days=120)
    with live_service["services"].session() as db:
        db.exec(update(MapVersion).where(MapVersion.connection_id == conn_id).values(created_at=long_ago))
        db.exec(update(MapReview).where(MapReview.connection_id == conn_id).values(reviewed_at=long_ago))
    page.goto("/")
    reminder = page.locator("#review-reminders li", has_text="salesforce-demo's own map")
    assert "30 days past its 90-day review" in reminder.inner_text()
    shot(page, "review-reminder", element="#review-reminders")
    reminder.locator("text=Open the editor").click()
    page.wait_for_url(re.compile(rf"/connections/{conn_id}/map$"))
    page.go_back()
    page.locator("#review-reminders li", has_text="salesforce-demo's own map").locator(
        "button", has_text="Mark reviewed").click()
    page.wait_for_selector(".flash-ok")
    assert page.locator("#review-reminders li", has_text="salesforce-demo's own map").count() == 0
    page.goto(f"/connections/{conn_id}/map/history")
    assert "next review due" in page.inner_text("#review")
