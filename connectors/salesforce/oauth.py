"""OAuth 2.0 token calls against a configurable login host (web-server flow, refresh, JWT bearer).

simple-salesforce only logs in against ``https://{domain}.salesforce.com``, so the connector makes
these calls itself and hands the access token to simple-salesforce as a session id.
"""
from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import jwt
import requests

from connectors.base import DEFAULT_TIMEOUTS, AuthFailed, TransientError

TOKEN_PATH = "/services/oauth2/token"


def authorize_url(login_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    """Where to send an admin to approve the connected app (web-server flow, ``code`` response)."""
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                       "state": state})
    return f"{login_url.rstrip('/')}/services/oauth2/authorize?{query}"


def exchange_code(login_url: str, client_id: str, client_secret: str, code: str, redirect_uri: str,
                  ca_file: str | None = None,
                  timeout: tuple[float, float] = DEFAULT_TIMEOUTS) -> dict[str, Any]:
    """Trade an authorization code for tokens (``access_token``, ``refresh_token``, ``instance_url``...)."""
    return token_request(login_url, {"grant_type": "authorization_code", "code": code, "client_id": client_id,
                                     "client_secret": client_secret, "redirect_uri": redirect_uri},
                         session=timed_session(ca_file, timeout))


def refresh_access_token(login_url: str, client_id: str, client_secret: str | None, refresh_token: str,
                         session: requests.Session) -> dict[str, Any]:
    """A new access token for ``refresh_token``."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    if client_secret:
        form["client_secret"] = client_secret
    return token_request(login_url, form, session=session)


def jwt_bearer_token(login_url: str, client_id: str, username: str, private_key: str | bytes, *,
                     audience: str | None = None, ca_file: str | None = None,
                     timeout: tuple[float, float] = DEFAULT_TIMEOUTS) -> dict[str, Any]:
    """An access token for ``username`` from a JWT signed with the connected app's private key."""
    assertion = jwt.encode({"iss": client_id, "sub": username, "aud": audience or login_url.rstrip("/"),
                            "exp": int(time.time()) + 180}, private_key, algorithm="RS256")
    return token_request(login_url, {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                     "assertion": assertion}, session=timed_session(ca_file, timeout))


def token_request(login_url: str, form: dict[str, str], *, session: requests.Session) -> dict[str, Any]:
    """POST ``form`` to the token endpoint. Raises AuthFailed (refused) or TransientError."""
    try:
        response = session.post(login_url.rstrip("/") + TOKEN_PATH, data=form)
    except requests.RequestException as exc:
        raise TransientError(f"Salesforce token request failed: {type(exc).__name__}",
                             code="CONNECTION_ERROR") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 500:
        raise TransientError(f"Salesforce token endpoint answered {response.status_code}",
                             code="SERVER_UNAVAILABLE", status=response.status_code)
    if response.status_code != 200 or "access_token" not in body:
        error = str(body.get("error") or "invalid_grant")
        description = str(body.get("error_description") or f"HTTP {response.status_code}")
        raise AuthFailed(f"Salesforce refused the {form['grant_type']} grant: {error}: {description}",
                         code=error, status=response.status_code)
    return body


class TimedSession(requests.Session):
    """A session whose every request has a connect and read timeout unless the caller gives one
    (simple-salesforce leaves it out on some calls, and requests then waits forever)."""

    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)


def timed_session(ca_file: str | None, timeout: tuple[float, float]) -> requests.Session:
    """A session that trusts ``ca_file`` (not the environment's CA bundle) and times out."""
    session = TimedSession(timeout)
    # A REQUESTS_CA_BUNDLE in the environment would otherwise override ``verify``.
    session.trust_env = False
    session.verify = ca_file or True
    return session
