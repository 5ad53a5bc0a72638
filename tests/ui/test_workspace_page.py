"""The workspace funnel takes the connection dashboard's period, filters and funnel types, in the
API (``/api/v1/analytics/funnel``) and on the page; its bars open the records behind them.

The world has one HubSpot connection whose deals stand alone, so the workspace's deal funnel must
give the connection funnel's figures for deals, whatever the parameters."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from integration.store.types import utcnow
from tests.ui.test_dashboard import section
from tests.support import records_count

TODAY = utcnow().date()
#: Each parameter of the connection funnel, with a value that narrows the demo book.
PARAMS = {
    "none": {},
    "from/to": {"from": str(TODAY - timedelta(days=400)), "to": str(TODAY - timedelta(days=30))},
    "from": {"from": str(TODAY - timedelta(days=60))},
    "to": {"to": str(TODAY - timedelta(days=60))},
    "persona": {"persona": "small_buyer"},
    "pipeline": {"pipeline": "default"},
    "crm": {"crm": "hubspot"},
    "stalled": {"stalled": "true"},
}


def workspace_api(client, **params):
    response = client.get("/api/v1/analytics/funnel", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def figures(stages):
    return [(s["reached"], s["entered"], s["strict"], s["conversion"], s["entered_conversion"],
             s["strict_conversion"]) for s in stages]


@pytest.mark.parametrize("name", PARAMS)
def test_every_parameter_narrows_like_the_connection_funnel(client, world, name):
    params = PARAMS[name]
    mine = workspace_api(client, unit="deals", **params)
    theirs = client.get(f"/api/v1/connections/{world.connection_id}/analytics/funnel",
                        query_string={**params, "object": "deal"}).get_json()["stages"]
    assert figures(mine["stages"]) == figures(theirs)
    assert [s["key"] for s in mine["stages"]] == [s["stage"] for s in theirs]


def test_the_period_and_filters_change_the_answer(client):
    everyone = workspace_api(client, unit="deals")
    assert everyone["stages"][0]["reached"] > 0 and everyone["total"] > 0
    # a period before any record: no stage entries and nobody in a stage entered then
    empty = workspace_api(client, unit="deals", **{"from": "2001-01-01", "to": "2001-12-31"})
    assert all(s["reached"] == s["entered"] == s["strict"] == s["current"] == 0 for s in empty["stages"])
    # people with a record matching the filters: none for an owner nobody has
    nobody = workspace_api(client, unit="people", owner="no-such-owner")
    assert nobody["total"] == 0 and all(s["reached"] == 0 for s in nobody["stages"])


@pytest.mark.parametrize("kind, field", [("reached", "reached"), ("any", "entered"), ("strict", "strict")])
def test_the_funnel_type_parameter_names_the_count(client, kind, field):
    answer = workspace_api(client, unit="deals", funnel=kind)
    assert answer["funnel"] == kind
    assert [s["count"] for s in answer["stages"]] == [s[field] for s in answer["stages"]]
    conversions = {"reached": "conversion", "any": "entered_conversion", "strict": "strict_conversion"}
    assert [s["count_conversion"] for s in answer["stages"]] == [
        s[conversions[kind]] for s in answer["stages"]]


def test_the_connection_funnel_takes_the_funnel_type_too(client, world):
    stages = client.get(f"/api/v1/connections/{world.connection_id}/analytics/funnel?funnel=any"
                        ).get_json()["stages"]
    assert [s["count"] for s in stages] == [s["entered"] for s in stages]


@pytest.mark.parametrize("query, message", [
    ("funnel=colour", "funnel: one of reached, any, strict"),
    ("from=2026-13-01", "from: must be a date as YYYY-MM-DD"),
    ("from=2026-05-02&to=2026-05-01", "from (2026-05-02) is after to (2026-05-01)"),
    ("crm=pipedrive", "crm: one of"),
    ("stalled=maybe", "stalled: must be true or false"),
    ("persona=" + "x" * 201, "persona: at most 200 characters"),
])
def test_bad_parameters_are_clear_errors(client, query, message):
    response = client.get(f"/api/v1/analytics/funnel?{query}")
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]


def workspace_page(client, **params):
    response = client.get("/workspace", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def bar_values(page, unit):
    chart = section(page, f"funnel-{unit}").split("<h3>In each stage now</h3>")[0]
    return [int(v.replace(",", "")) for v in re.findall(r'<text class="value"[^>]*>([\d,]+)', chart)]


@pytest.mark.parametrize("kind, field", [("reached", "reached"), ("any", "entered"), ("strict", "strict")])
def test_the_page_draws_the_chosen_funnel_type_for_the_period(client, kind, field):
    params = {"period": "custom", "from": str(TODAY - timedelta(days=400)), "to": str(TODAY)}
    page = workspace_page(client, funnel=kind, **params)
    answer = workspace_api(client, unit="deals", **{k: params[k] for k in ("from", "to")})
    assert bar_values(page, "deals") == [s[field] for s in answer["stages"]]
    assert 'id="filters"' in page and '<option value="custom" selected>' in page
    # the switch keeps the period, and the bar keeps the funnel type
    assert re.search(rf'href="/workspace\?[^"]*period=custom[^"]*funnel={kind}[^"]*" class="on" aria-current', page)
    if kind != "reached":
        assert f'<input type="hidden" name="funnel" value="{kind}">' in page


def test_the_filter_bar_offers_every_connection_s_values(client):
    page = workspace_page(client)
    assert '<select name="persona">' in page and '<option value="deal"' in page
    owners = re.findall(r'<select name="owner">(.*?)</select>', page, re.S)[0]
    assert re.findall(r">([^<]+)</option>", owners)[1:], "owners are listed by name"


def test_bad_page_parameters_are_clear_errors(client):
    assert client.get("/workspace?funnel=colour").status_code == 400
    response = client.get("/workspace?period=7d")
    assert response.status_code == 400 and "period: one of" in response.get_data(as_text=True)


def test_a_bar_opens_the_records_of_its_stage_with_the_same_choice(client, world):
    page = workspace_page(client, period="365d", object="deal")
    links = re.findall(r'<a class="drill" href="([^"]+)"', section(page, "funnel-deals"))
    assert links and all(link.startswith("/workspace/records?") for link in links)
    stage_link = next(link for link in links if "stage=consideration" in link).replace("&amp;", "&")
    assert "period=365d" in stage_link and "object=deal" in stage_link
    response = client.get(stage_link)
    held = client.get(f"/api/v1/connections/{world.connection_id}/records", query_string={
        "stage": "consideration", "object": "deal", "from": str(TODAY - timedelta(days=364)),
        "to": str(TODAY)}).get_json()["records"]
    # one connection holds records there: straight to its records list, same stage and filters
    assert response.status_code == (302 if held else 200)
    if held:
        target = response.headers["Location"]
        assert target.startswith(f"/connections/{world.connection_id}/records?")
        assert "stage=consideration" in target and "object=deal" in target and "period=365d" in target
    else:
        assert response.status_code == 200
        assert records_count(response.get_data(as_text=True)) == "0"


def test_the_records_chooser_lists_each_connection_with_its_count(client, world):
    response = client.get("/workspace/records?stage=advocacy")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert f'/connections/{world.connection_id}/records?stage=advocacy' in text
    assert client.get("/workspace/records?stage=" + "x" * 201).status_code == 400
