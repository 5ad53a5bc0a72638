"""The OAuth install helpers against the sandbox's consent page and token endpoint."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests

from connectors.base import AuthFailed
from connectors.hubspot.oauth import authorize_url, exchange_code

REDIRECT = "http://localhost:8000/connections/hubspot/callback"


def test_authorize_url_targets_the_configured_host() -> None:
    url = authorize_url("https://app.hubspot.com", "cid", REDIRECT, ["oauth", "crm.objects.deals.read"],
                        "st8")
    parsed = urlparse(url)
    assert (parsed.scheme, parsed.netloc, parsed.path) == ("https", "app.hubspot.com", "/oauth/authorize")
    assert parse_qs(parsed.query) == {"client_id": ["cid"], "redirect_uri": [REDIRECT],
                                      "scope": ["oauth crm.objects.deals.read"], "state": ["st8"]}


def test_install_flow_end_to_end(hs_sandbox) -> None:
    info = hs_sandbox.info()
    url = authorize_url(info["base_url"], info["client_id"], REDIRECT, ["oauth"], "st8")
    consent = requests.get(url, allow_redirects=False)
    assert consent.status_code == 302
    query = parse_qs(urlparse(consent.headers["Location"]).query)
    assert query["state"] == ["st8"]
    tokens = exchange_code(info["base_url"], info["client_id"], info["client_secret"],
                           query["code"][0], REDIRECT)
    assert tokens["expires_in"] == 1800 and tokens["access_token"] and tokens["refresh_token"]
    with pytest.raises(AuthFailed) as failed:
        exchange_code(info["base_url"], info["client_id"], info["client_secret"], query["code"][0],
                      REDIRECT)
    assert failed.value.code == "BAD_AUTH_CODE"
    assert info["client_secret"] not in str(failed.value) and query["code"][0] not in str(failed.value)


def test_unknown_client_sees_an_error_page(hs_sandbox) -> None:
    url = authorize_url(hs_sandbox.base_url, "someone-else", REDIRECT, ["oauth"], "s")
    page = requests.get(url, allow_redirects=False)
    assert page.status_code == 400 and "unknown client_id" in page.text
