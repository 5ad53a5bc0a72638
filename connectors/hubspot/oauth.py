"""The OAuth install flow: send the admin to HubSpot's consent page, trade the code for tokens."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Sequence
from urllib.parse import urlencode

import urllib3
from hubspot import HubSpot
from hubspot.oauth import ApiException

from connectors.base import DEFAULT_TIMEOUTS, AuthFailed

from .errors import translate
from .properties import to_hubspot_datetime

#: Real HubSpot's consent page lives on app.hubspot.com; the sandbox serves its own.
HUBSPOT_AUTHORIZE_HOST = "https://app.hubspot.com"


def authorize_url(base_url: str, client_id: str, redirect_uri: str, scopes: Sequence[str],
                  state: str) -> str:
    """The consent page URL on ``base_url`` (``https://app.hubspot.com`` for real HubSpot)."""
    query = urlencode({"client_id": client_id, "redirect_uri": redirect_uri,
                       "scope": " ".join(scopes), "state": state})
    return f"{base_url.rstrip('/')}/oauth/authorize?{query}"


def exchange_code(base_url: str, client_id: str, client_secret: str, code: str,
                  redirect_uri: str, timeout: tuple[float, float] = DEFAULT_TIMEOUTS
                  ) -> dict[str, Any]:
    """Trade an authorization code for tokens: ``{access_token, refresh_token, expires_in,
    expires_at}``. Raises :class:`connectors.base.AuthFailed` (bad code, client or redirect) or
    another ``CrmError``; messages carry HubSpot's reason, never the secret or the code."""
    client = HubSpot(host=base_url.rstrip("/"), retry=urllib3.Retry(total=0, raise_on_status=False))
    response = grant_tokens(client.oauth.tokens_api, "OAuth code exchange", timeout,
                            grant_type="authorization_code", code=code, redirect_uri=redirect_uri,
                            client_id=client_id, client_secret=client_secret)
    expires_at = datetime.now(timezone.utc) + timedelta(seconds=response.expires_in)
    return {"access_token": response.access_token, "refresh_token": response.refresh_token,
            "expires_in": response.expires_in, "expires_at": to_hubspot_datetime(expires_at)}


def grant_tokens(tokens_api: Any, action: str, timeout: tuple[float, float], **form: Any) -> Any:
    """POST ``/oauth/v1/token`` with ``form`` (``timeout``: connect, read seconds); the token
    response model.

    A 400 (bad code, refresh token, client or redirect) raises :class:`AuthFailed`; other failures
    the translated ``CrmError``. ``action`` names the call in messages, which never carry secrets.
    """
    try:
        return tokens_api.create(**form, _request_timeout=timeout)
    except ApiException as exc:
        error = translate(exc.status or 0, exc.body, exc.headers, action)
        if exc.status == 400:
            raise AuthFailed(error.message, code=error.code, status=400) from None
        raise error from None
    except urllib3.exceptions.HTTPError as exc:
        raise translate(0, None, None, f"{action} ({type(exc).__name__})") from None
