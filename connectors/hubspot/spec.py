"""The HubSpot connector's registry entry: its install-form settings and factory."""
from __future__ import annotations

from typing import Any, Mapping

from connectors.base import ConnectorSpec, MetadataCache, OAuthSpec, SettingSpec, SharedResources

from . import oauth
from .api import DEFAULT_BASE_URL
from .connector import HubSpotConnector
from .ratelimit import RateBudget

#: What the connector reads and writes: CRM objects, and the schema for provisioning.
SCOPES = ("crm.objects.deals.read", "crm.objects.deals.write", "crm.objects.contacts.read",
          "crm.objects.contacts.write", "crm.schemas.deals.write", "crm.schemas.contacts.write")


def _connector(settings: Mapping[str, Any], on_tokens: Any = None,
               resources: SharedResources | None = None,
               cache: MetadataCache | None = None) -> HubSpotConnector:
    """A connector whose rate budget is shared with every connector of the same portal."""
    portal = settings.get("portal_id")
    budget = None
    if resources and portal:
        key = f"hubspot:{portal}"
        budget = resources.get(f"{key}:rate-budget", lambda: RateBudget(
            make_window=lambda name, *limits: resources.rate_window(f"{key}:{name}", *limits)))
    return HubSpotConnector(settings, on_tokens, rate_budget=budget, cache=cache)


def _authorize_url(app: Mapping[str, Any], redirect_uri: str, state: str) -> str:
    host = app.get("authorize_url") or oauth.HUBSPOT_AUTHORIZE_HOST
    return oauth.authorize_url(host, app["client_id"], redirect_uri, SCOPES, state)


def _exchange(app: Mapping[str, Any], code: str, redirect_uri: str) -> dict[str, Any]:
    """Tokens for ``code`` as connection settings, with the portal id as the account id."""
    base_url = app.get("base_url") or DEFAULT_BASE_URL
    tokens = oauth.exchange_code(base_url, app["client_id"], app["client_secret"], code,
                                 redirect_uri)
    settings = {"base_url": base_url, "access_token": tokens["access_token"],
                "refresh_token": tokens["refresh_token"], "expires_at": tokens["expires_at"],
                "client_id": app["client_id"], "client_secret": app["client_secret"]}
    settings["portal_id"] = HubSpotConnector(settings, None).portal_id()
    return {**settings, "account_id": settings["portal_id"]}


SPEC = ConnectorSpec(
    name="hubspot",
    label="HubSpot",
    settings=(
        SettingSpec("base_url", "API base URL", required=False, default=DEFAULT_BASE_URL,
                    help="Leave as is for HubSpot; a sandbox URL for local testing."),
        SettingSpec("access_token", "Access token", secret=True,
                    help="A private app token, or the OAuth access token from the install flow."),
        SettingSpec("refresh_token", "Refresh token", secret=True, required=False,
                    help="OAuth only: lets the connector renew the access token."),
        SettingSpec("client_id", "App client id", required=False),
        SettingSpec("client_secret", "App client secret", secret=True, required=False,
                    help="OAuth only; also verifies webhook signatures."),
        SettingSpec("expires_at", "Access token expiry (ISO 8601)", required=False),
        SettingSpec("portal_id", "Portal (hub) id", required=False,
                    help="Looked up from HubSpot when left empty."),
    ),
    factory=_connector,
    oauth=OAuthSpec(app_settings=("client_id", "client_secret"), authorize_url=_authorize_url,
                    exchange=_exchange),
)
