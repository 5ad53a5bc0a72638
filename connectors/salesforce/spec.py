"""The Salesforce plug-in declaration: its install settings and its factory."""
from __future__ import annotations

from connectors.base import ConnectorSpec, SettingSpec
from connectors.salesforce.connector import SalesforceConnector

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
        SettingSpec("api_version", "API version", required=False, default="59.0"),
        SettingSpec("quota_share", "Share of the daily API quota to use", required=False, default="0.5"),
        SettingSpec("field_names", "Write-back field names (JSON: canonical -> API name)", required=False),
        SettingSpec("contact_stage_field", "Contact field holding a journey stage", required=False,
                    help="Leave empty: contacts follow their latest opportunity"),
    ),
    factory=SalesforceConnector,
)
