"""The HubSpot plug-in: the one declaration of everything the service knows about HubSpot."""
from __future__ import annotations

from typing import Any, Mapping

from connectors.base import ACCOUNT_SETTING, ATTEMPTS_SETTING, MetadataCache, timeouts_from
from connectors.plugin import (CardSpec, ConnectorSpec, OAuthSpec, ReceiverSpec, SandboxSpec,
                               SharedResources)
from mapping.mapfile import default_sources
from mapping.unmapped import StageHint

from . import oauth, receiver
from .api import DEFAULT_BASE_URL, MAX_ATTEMPTS
from .connector import HubSpotConnector
from .errors import ERROR_TABLE
from .properties import OBJECTS
from .ratelimit import RateBudget
from .settings import HubSpotSettings

#: What the connector reads and writes: CRM objects, and the schema for provisioning.
SCOPES = ("crm.objects.deals.read", "crm.objects.deals.write", "crm.objects.contacts.read",
          "crm.objects.contacts.write", "crm.schemas.deals.write", "crm.schemas.contacts.write")


def _connector(settings: Mapping[str, Any], on_tokens: Any = None,
               resources: SharedResources | None = None,
               cache: MetadataCache | None = None) -> HubSpotConnector:
    """A connector whose rate budget is shared with every connector of the same portal."""
    portal = settings.get(ACCOUNT_SETTING) or settings.get("portal_id")
    budget = None
    if resources and portal:
        key = f"hubspot:{portal}"
        budget = resources.get(f"{key}:rate-budget", lambda: RateBudget(
            make_window=lambda name, *limits: resources.rate_window(f"{key}:{name}", *limits)))
    attempts = int(settings.get(ATTEMPTS_SETTING) or MAX_ATTEMPTS)
    return HubSpotConnector(settings, on_tokens, rate_budget=budget, cache=cache,
                            max_attempts=attempts)


def _authorize_url(app: Mapping[str, Any], redirect_uri: str, state: str) -> str:
    host = app.get("authorize_url") or oauth.HUBSPOT_AUTHORIZE_HOST
    return oauth.authorize_url(host, app["client_id"], redirect_uri, SCOPES, state)


def _exchange(app: Mapping[str, Any], code: str, redirect_uri: str) -> dict[str, Any]:
    """Tokens for ``code`` as connection settings."""
    base_url = app.get("base_url") or DEFAULT_BASE_URL
    tokens = oauth.exchange_code(base_url, app["client_id"], app["client_secret"], code,
                                 redirect_uri, timeouts_from(app))
    return {"base_url": base_url, "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"], "expires_at": tokens["expires_at"],
            "client_id": app["client_id"], "client_secret": app["client_secret"]}


def _sandbox(seed: Any = None, **options: Any) -> Any:
    """The local HubSpot (imported on first use: production processes never load it)."""
    from .sandbox import HubSpotSandbox
    return HubSpotSandbox(seed, **options)


def _portals(seed: Any = None, **options: Any) -> Any:
    """One local HubSpot serving ``portals`` separate portals (imported on first use)."""
    from .sandbox import HubSpotPortals
    return HubSpotPortals(seed, **options)


#: Why a HubSpot record has no stage value, and what to do about it.
STAGE_HINTS = {
    "contact": StageHint("The contact has no lifecycle stage.",
                         "Set its Lifecycle stage in HubSpot (or let a workflow set it)."),
    "deal": StageHint("The deal has no deal stage.", "Set its Deal stage in HubSpot."),
}

SPEC = ConnectorSpec(
    name="hubspot",
    label="HubSpot",
    settings_model=HubSpotSettings,
    factory=_connector,
    errors=ERROR_TABLE,
    map_sources=lambda: default_sources("hubspot"),
    stage_hints=STAGE_HINTS,
    day_counts=True,
    oauth=OAuthSpec(app_settings=("client_id", "client_secret"), authorize_url=_authorize_url,
                    exchange=_exchange),
    receiver=ReceiverSpec(parse=receiver.parse, verify=receiver.verify,
                          unverified=receiver.UNVERIFIED),
    card=CardSpec(objects=OBJECTS, account=receiver.card_account, verify=receiver.verify,
                  unverified=receiver.UNVERIFIED),
    sandbox=SandboxSpec(make=_sandbox, make_many=_portals),
)
