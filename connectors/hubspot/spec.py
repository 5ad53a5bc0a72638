"""The HubSpot connector's registry entry: its install-form settings and factory."""
from __future__ import annotations

from connectors.base import ConnectorSpec, SettingSpec

from .api import DEFAULT_BASE_URL
from .connector import HubSpotConnector

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
    factory=lambda settings, on_tokens: HubSpotConnector(settings, on_tokens),
)
