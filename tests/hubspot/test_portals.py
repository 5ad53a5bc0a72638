"""Many portals from one sandbox process: each its own data, credentials, limits and counters,
told apart by the credentials of each request, over real HTTP with the real client library."""
from __future__ import annotations

import copy

import pytest
import requests
from hubspot import HubSpot

from connectors.hubspot.sandbox import HubSpotPortals
from connectors.seedfile import SeedError
from integration.sandboxes import make_sandbox
from tests.fixtures_hubspot import HS_SEED


@pytest.fixture()
def portals():
    with HubSpotPortals(copy.deepcopy(HS_SEED), portals=3, rate_limit=3,
                        rate_window_seconds=30) as box:
        yield box


def _http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def _deal_stage(info: dict, deal_id: str) -> str:
    client = HubSpot(access_token=info["private_app_token"], host=info["base_url"])
    return client.crm.deals.basic_api.get_by_id(deal_id, properties=["dealstage"]).properties["dealstage"]


def test_each_portal_has_its_own_ids_and_credentials_on_one_port(portals):
    infos = portals.infos()
    first = HS_SEED.get("portal_id", infos[0]["portal_id"])
    assert [i["portal_id"] for i in infos] == [first, first + 1, first + 2]
    assert len({i["base_url"] for i in infos}) == 1
    for name in ("access_token", "private_app_token", "client_id", "client_secret"):
        assert len({i[name] for i in infos}) == 3, name
    for info in infos:
        res = _http().get(f"{info['base_url']}/account-info/v3/details",
                          headers={"Authorization": f"Bearer {info['private_app_token']}"})
        assert res.json()["portalId"] == info["portal_id"]


def test_a_change_in_one_portal_leaves_the_others_alone(portals):
    one, two, _ = portals.infos()
    deal_id = HS_SEED["deals"][0]["id"]
    before = _deal_stage(two, deal_id)
    res = _http().post(f"{one['base_url']}/__sandbox__/move?portal={one['portal_id']}",
                       json={"object": "deal", "id": deal_id, "stage": "closedlost"})
    assert res.status_code == 200
    assert _deal_stage(one, deal_id) == "closedlost"
    assert _deal_stage(two, deal_id) == before != "closedlost"


def test_rate_limits_and_counters_are_per_portal(portals):
    one, two, three = portals.infos()
    session = _http()

    def details(info):
        return session.get(f"{info['base_url']}/account-info/v3/details",
                           headers={"Authorization": f"Bearer {info['private_app_token']}"})

    assert [details(one).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert details(two).status_code == 200  # portal two's window is its own
    calls = session.get(f"{one['base_url']}/__sandbox__/counters").json()
    assert calls["portals"] == {str(one["portal_id"]): {"calls": 4, "rate_limited": 1},
                                str(two["portal_id"]): {"calls": 1, "rate_limited": 0},
                                str(three["portal_id"]): {"calls": 0, "rate_limited": 0}}
    assert calls["calls"] == 5
    session.post(f"{one['base_url']}/__sandbox__/counters/reset")
    after = session.get(f"{one['base_url']}/__sandbox__/counters").json()
    assert after["calls"] == 0 and after["portals"][str(one["portal_id"])]["rate_limited"] == 0


def test_token_refresh_goes_to_the_portal_of_the_client_id(portals):
    _, two, three = portals.infos()
    res = _http().post(f"{two['base_url']}/oauth/v1/token", data={
        "grant_type": "refresh_token", "refresh_token": two["refresh_token"],
        "client_id": two["client_id"], "client_secret": two["client_secret"]})
    assert res.status_code == 200
    token = res.json()["access_token"]
    info = _http().get(f"{two['base_url']}/oauth/v1/access-tokens/{token}").json()
    assert info["hub_id"] == two["portal_id"]
    wrong = _http().post(f"{two['base_url']}/oauth/v1/token", data={
        "grant_type": "refresh_token", "refresh_token": two["refresh_token"],
        "client_id": three["client_id"], "client_secret": three["client_secret"]})
    assert wrong.status_code == 400 and wrong.json()["status"] == "BAD_REFRESH_TOKEN"


def test_an_unknown_token_is_refused_as_hubspot_does(portals):
    res = _http().get(f"{portals.info()['base_url']}/crm/v3/objects/deals",
                      headers={"Authorization": "Bearer nobody"})
    assert res.status_code == 401 and res.json()["category"] == "INVALID_AUTHENTICATION"


def test_only_the_hubspot_sandbox_serves_many_accounts():
    assert isinstance(make_sandbox("hubspot", seed={"hubspot": HS_SEED}, portals=2), HubSpotPortals)
    with pytest.raises(SeedError, match="--portals: the salesforce sandbox serves one account"):
        make_sandbox("salesforce", seed={}, portals=2)
