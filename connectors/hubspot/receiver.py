"""HubSpot webhooks and the app card's data requests as the service receives them (see
``connectors.plugin``): both are signed with the app's client secret (signature v3)."""
from __future__ import annotations

from typing import Any, Mapping

from connectors.plugin import Delivery, InboundRequest, Notice, Refused

from .properties import OBJECTS
from .webhooks import parse_events, verify_signature_v3


def parse(request: InboundRequest) -> Delivery:
    """The portal and the records of a webhook batch (legacy or generic format); events of other
    portals or of objects the connector does not sync are left out. Each event's delivery key is
    what HubSpot keeps the same across retries of it (see ``WebhookEvent.delivery_key``)."""
    try:
        events = parse_events(request.body)
    except ValueError as exc:
        raise Refused(400, "BAD_EVENTS", str(exc)) from None
    if not events:
        return Delivery(None)
    portal = events[0].portal_id
    return Delivery(str(portal) if portal is not None else None, tuple(
        Notice(event.object, event.object_id, event.delivery_key, event.subscription_type)
        for event in events if event.portal_id == portal and event.object in OBJECTS))


def verify(request: InboundRequest, config: Mapping[str, Any]) -> bool:
    """Whether the request carries a fresh v3 signature made with the connection's client secret."""
    return verify_signature_v3(config.get("client_secret") or "", request.method, request.url,
                               request.body, request.headers.get("x-hubspot-signature-v3"),
                               request.headers.get("x-hubspot-request-timestamp"))


UNVERIFIED = Refused(401, "BAD_SIGNATURE",
                     "missing, forged or stale X-HubSpot-Signature-v3 for this portal")


def card_account(request: InboundRequest) -> str:
    """The portal an app card's ``hubspot.fetch()`` is for (its ``portalId`` query parameter)."""
    portal = request.query.get("portalId")
    if not portal:
        raise Refused(400, "BAD_REQUEST", "portalId is required")
    return portal
