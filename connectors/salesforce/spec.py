"""The Salesforce plug-in: the one declaration of everything the service knows about Salesforce."""
from __future__ import annotations

from typing import Any, Mapping

from connectors.base import timeouts_from
from connectors.plugin import ConnectorSpec, OAuthSpec, ReceiverSpec, SandboxSpec
from connectors.salesforce import oauth, receiver
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.errors import ERROR_TABLE
from connectors.salesforce.settings import SalesforceSettings
from mapping.mapfile import default_sources
from mapping.unmapped import StageHint

DEFAULT_LOGIN_URL = SalesforceSettings.model_fields["login_url"].default


def _authorize_url(app: Mapping[str, Any], redirect_uri: str, state: str) -> str:
    return oauth.authorize_url(app.get("login_url") or DEFAULT_LOGIN_URL, app["client_id"],
                               redirect_uri, state)


def _exchange(app: Mapping[str, Any], code: str, redirect_uri: str) -> dict[str, Any]:
    """Tokens for ``code`` as connection settings."""
    login_url = app.get("login_url") or DEFAULT_LOGIN_URL
    tokens = oauth.exchange_code(login_url, app["client_id"], app["client_secret"], code,
                                 redirect_uri, ca_file=app.get("ca_file"), timeout=timeouts_from(app))
    settings = {"instance_url": tokens["instance_url"], "access_token": tokens["access_token"],
                "refresh_token": tokens.get("refresh_token"), "client_id": app["client_id"],
                "client_secret": app["client_secret"], "login_url": login_url,
                "ca_file": app.get("ca_file")}
    return {k: v for k, v in settings.items() if v}


def _sandbox(seed: Any = None, **options: Any) -> Any:
    """The local Salesforce (imported on first use: production processes never load it)."""
    from connectors.salesforce.sandbox import SalesforceSandbox
    return SalesforceSandbox(seed, **options)


#: Why a Salesforce record has no stage value, and what to do about it.
STAGE_HINTS = {
    "contact/opportunity": StageHint(
        "A contact takes its stage from its most recently changed opportunity, through the "
        "opportunity's contact roles, and this contact has no contact role on any opportunity.",
        "Add the contact to an opportunity's Contact Roles in Salesforce, or give the connection a "
        "contact stage field (setting contact_stage_field) and map that field's values."),
    "contact/contact": StageHint("The contact's stage field (contact_stage_field) is empty.",
                                 "Fill the field in Salesforce."),
    "lead": StageHint("The lead has no Status.", "Set the lead's Status in Salesforce."),
}

SPEC = ConnectorSpec(
    name="salesforce",
    label="Salesforce",
    settings_model=SalesforceSettings,
    factory=lambda settings, on_tokens=None, resources=None, cache=None: SalesforceConnector(
        settings, on_tokens, cache=cache),
    errors=ERROR_TABLE,
    map_sources=lambda: default_sources("salesforce"),
    stage_hints=STAGE_HINTS,
    oauth=OAuthSpec(app_settings=("client_id", "client_secret"), authorize_url=_authorize_url,
                    exchange=_exchange),
    receiver=ReceiverSpec(parse=receiver.parse, verify=receiver.verify,
                          unverified=receiver.UNVERIFIED, ack=receiver.ack, refuse=receiver.refuse,
                          per_connection_url=True, setup_steps=receiver.SETUP_STEPS),
    sandbox=SandboxSpec(make=_sandbox),
)
