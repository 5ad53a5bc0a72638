"""The Salesforce plug-in declaration: its install settings and its factory."""
from __future__ import annotations

from typing import Any, Mapping

from connectors.base import ConnectorSpec, OAuthSpec, SettingSpec
from connectors.salesforce import oauth
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.settings import DEFAULT_API_VERSION

DEFAULT_LOGIN_URL = "https://login.salesforce.com"


def _authorize_url(app: Mapping[str, Any], redirect_uri: str, state: str) -> str:
    return oauth.authorize_url(app.get("login_url") or DEFAULT_LOGIN_URL, app["client_id"],
                               redirect_uri, state)


def _exchange(app: Mapping[str, Any], code: str, redirect_uri: str) -> dict[str, Any]:
    """Tokens for ``code`` as connection settings; the org id comes from the identity URL
    (``https://login.salesforce.com/id/<org id>/<user id>``) of the token response."""
    login_url = app.get("login_url") or DEFAULT_LOGIN_URL
    tokens = oauth.exchange_code(login_url, app["client_id"], app["client_secret"], code,
                                 redirect_uri, ca_file=app.get("ca_file"))
    identity = str(tokens.get("id") or "").rstrip("/").split("/")
    settings = {"instance_url": tokens["instance_url"], "access_token": tokens["access_token"],
                "refresh_token": tokens.get("refresh_token"), "client_id": app["client_id"],
                "client_secret": app["client_secret"], "login_url": login_url,
                "ca_file": app.get("ca_file"),
                "account_id": identity[-2] if len(identity) >= 2 else None}
    return {k: v for k, v in settings.items() if v}

SPEC = ConnectorSpec(
    name="salesforce",
    label="Salesforce",
    settings=(
        SettingSpec("instance_url", "Instance URL", help="https://yourdomain.my.salesforce.com"),
        SettingSpec("access_token", "Access token", secret=True),
        SettingSpec("refresh_token", "Refresh token", secret=True, required=False),
        SettingSpec("client_id", "Connected app consumer key", required=False),
        SettingSpec("client_secret", "Connected app consumer secret", secret=True, required=False),
        SettingSpec("login_url", "Login URL", required=False, default="https://login.salesforce.com"),
        SettingSpec("ca_file", "CA bundle file", required=False, help="Only for a local sandbox or a TLS proxy"),
        SettingSpec("api_version", "API version", required=False, default=DEFAULT_API_VERSION),
        SettingSpec("quota_share", "Share of the daily API quota to use", required=False, default="0.5"),
        SettingSpec("field_names", "Write-back field names (JSON: canonical -> API name)", required=False),
        SettingSpec("contact_stage_field", "Contact field holding a journey stage", required=False,
                    help="Leave empty: contacts follow their latest opportunity"),
    ),
    factory=lambda settings, on_tokens=None, resources=None, cache=None: SalesforceConnector(
        settings, on_tokens, cache=cache),
    oauth=OAuthSpec(app_settings=("client_id", "client_secret"), authorize_url=_authorize_url,
                    exchange=_exchange),
)
