"""Each connector's OAuth plug-in against its sandbox: the consent page sends the admin back with a
code, the code becomes working connection settings, and the account id is the CRM's own."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests

from connectors import registry
from connectors.base import AuthFailed
from tests.seeds import SEED
from tests.sync.crms import start_crm

REDIRECT = "http://127.0.0.1:8000/install/callback"


def app_settings(crm, info) -> dict:
    if crm == "salesforce":
        return {"client_id": info["client_id"], "client_secret": info["client_secret"],
                "login_url": info["login_url"], "ca_file": info["ca_file"]}
    return {"client_id": info["client_id"], "client_secret": info["client_secret"],
            "base_url": info["base_url"], "authorize_url": info["base_url"]}


@pytest.mark.parametrize("crm_name", ["salesforce", "hubspot"])
def test_consent_code_becomes_a_working_connection(crm_name):
    crm = start_crm(crm_name, SEED)
    try:
        info = crm.info
        spec = registry.spec(crm_name)
        app = app_settings(crm_name, info)
        url = spec.oauth.authorize_url(app, REDIRECT, "state-123")
        session = requests.Session()
        session.trust_env = False
        answer = session.get(url, allow_redirects=False, timeout=10,
                             verify=info.get("ca_file") or True)
        assert answer.status_code in (302, 303)
        back = urlparse(answer.headers["Location"])
        assert back._replace(query="").geturl() == REDIRECT
        query = parse_qs(back.query)
        assert query["state"] == ["state-123"]
        settings = spec.oauth.exchange(app, query["code"][0], REDIRECT)
        assert set(settings) <= {s.name for s in spec.settings}
        assert settings["refresh_token"]
        connector = spec.factory(settings, None)
        # The account is what the CRM says the tokens reach, never something the flow carries.
        assert connector.identify().account_id == str(info.get("org_id") or info.get("portal_id"))
        assert sum(1 for _ in connector.pull(None)) >= 1
        with pytest.raises(AuthFailed):
            spec.oauth.exchange(app, query["code"][0], REDIRECT)  # a code works once
    finally:
        crm.stop()


def test_connectors_of_one_portal_share_one_rate_budget():
    from integration.services import ProcessResources
    spec = registry.spec("hubspot")
    resources = ProcessResources()
    settings = {"access_token": "t", "portal_id": "62515", "base_url": "http://127.0.0.1:9"}
    a = spec.factory(settings, None, resources)
    b = spec.factory(settings, None, resources)
    c = spec.factory({**settings, "portal_id": "99"}, None, resources)
    assert a.session.budget is b.session.budget
    assert a.session.budget is not c.session.budget
