"""OAuth against the sandbox: web-server flow end to end, refresh, JWT bearer, client credentials."""
from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from connectors.base import AuthFailed
from connectors.salesforce.oauth import authorize_url, exchange_code, jwt_bearer_token, refresh_access_token
from connectors.salesforce import SPEC
from tests.salesforce.helpers import http, simple_sf

REDIRECT = "https://journey.example/oauth/salesforce/callback"


def _authorize(sandbox, state="xyz", redirect=REDIRECT):
    info = sandbox.info()
    response = http(sandbox).get(authorize_url(info["login_url"], info["client_id"], redirect, state),
                             allow_redirects=False)
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == redirect
    return parse_qs(target.query)


def test_web_server_flow_end_to_end(sf_sandbox):
    info = sf_sandbox.info()
    query = _authorize(sf_sandbox)
    assert query["state"] == ["xyz"]
    tokens = exchange_code(info["login_url"], info["client_id"], info["client_secret"], query["code"][0],
                           REDIRECT, ca_file=info["ca_file"])
    assert {"access_token", "refresh_token", "instance_url", "id", "issued_at", "signature",
            "token_type", "scope"} <= tokens.keys()
    assert tokens["instance_url"] == info["instance_url"]
    assert simple_sf(sf_sandbox, token=tokens["access_token"]).query("SELECT Id FROM Lead")["totalSize"] == 1
    with pytest.raises(AuthFailed) as reused:
        exchange_code(info["login_url"], info["client_id"], info["client_secret"], query["code"][0], REDIRECT,
                      ca_file=info["ca_file"])
    assert reused.value.code == "invalid_grant"
    assert "invalid authorization code" in reused.value.message


def test_code_exchange_checks_redirect_and_client(sf_sandbox):
    info = sf_sandbox.info()
    code = _authorize(sf_sandbox)["code"][0]
    with pytest.raises(AuthFailed) as mismatch:
        exchange_code(info["login_url"], info["client_id"], info["client_secret"], code,
                      "https://evil.example/cb", ca_file=info["ca_file"])
    assert mismatch.value.code == "redirect_uri_mismatch"
    code = _authorize(sf_sandbox)["code"][0]
    with pytest.raises(AuthFailed) as bad_secret:
        exchange_code(info["login_url"], info["client_id"], "wrong-secret", code, REDIRECT, ca_file=info["ca_file"])
    assert bad_secret.value.code == "invalid_client"
    assert "wrong-secret" not in str(bad_secret.value)
    unknown = http(sf_sandbox).get(authorize_url(info["login_url"], "nobody", REDIRECT, "s"), allow_redirects=False)
    assert unknown.status_code == 400 and "invalid_client_id" in unknown.text


def test_refresh_and_its_failure_body(sf_sandbox):
    info = sf_sandbox.info()
    session = http(sf_sandbox)
    fresh = refresh_access_token(info["login_url"], info["client_id"], info["client_secret"],
                                 info["refresh_token"], session)
    assert "refresh_token" not in fresh and fresh["access_token"] != info["access_token"]
    response = session.post(info["login_url"] + "/services/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": "5Aepbogus", "client_id": info["client_id"]})
    assert (response.status_code, response.json()) == (
        400, {"error": "invalid_grant", "error_description": "expired access/refresh token"})
    unsupported = session.post(info["login_url"] + "/services/oauth2/token", data={"grant_type": "password"})
    assert unsupported.json() == {"error": "unsupported_grant_type", "error_description": "grant type not supported"}


def test_jwt_bearer_and_client_credentials(sf_sandbox):
    info = sf_sandbox.info()
    key = Path(info["jwt_private_key_file"]).read_bytes()
    tokens = jwt_bearer_token(info["login_url"], info["client_id"], info["username"], key,
                              ca_file=info["ca_file"])
    assert simple_sf(sf_sandbox, token=tokens["access_token"]).query("SELECT Id FROM Lead")["totalSize"] == 1
    with pytest.raises(AuthFailed) as wrong_user:
        jwt_bearer_token(info["login_url"], info["client_id"], "someone@else", key, ca_file=info["ca_file"])
    assert wrong_user.value.code == "invalid_grant"
    expired = jwt.encode({"iss": info["client_id"], "sub": info["username"], "aud": info["login_url"],
                          "exp": int(time.time()) - 60}, key, algorithm="RS256")
    response = http(sf_sandbox).post(info["login_url"] + "/services/oauth2/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": expired})
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    client = http(sf_sandbox).post(info["login_url"] + "/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": info["client_id"], "client_secret": info["client_secret"]})
    assert client.status_code == 200 and "refresh_token" not in client.json()


def test_the_spec_drives_the_service_install_flow(sf_sandbox):
    info = sf_sandbox.info()
    app = {"client_id": info["client_id"], "client_secret": info["client_secret"],
           "login_url": info["login_url"], "ca_file": info["ca_file"]}
    url = SPEC.oauth.authorize_url(app, REDIRECT, "state-1")
    assert url.startswith(info["login_url"] + "/services/oauth2/authorize?")
    response = http(sf_sandbox).get(url, allow_redirects=False)
    code = parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]
    values = SPEC.oauth.exchange(app, code, REDIRECT)
    assert set(values) <= {s.name for s in SPEC.settings}
    connector = SPEC.factory(values, None)
    assert connector.identify().account_id == info["org_id"]
    assert [s.value for s in connector.stages()][:1] == ["Prospecting"]
