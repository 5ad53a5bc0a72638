"""HubSpot connector: hubspot-api-client adapter, webhook signature v3, OAuth install helpers."""
from .connector import HubSpotConnector
from .ratelimit import RateBudget
from .spec import SPEC

__all__ = ["HubSpotConnector", "RateBudget", "SPEC"]
