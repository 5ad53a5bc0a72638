"""A local HubSpot that speaks the real v3 wire protocol (see :class:`HubSpotSandbox`)."""
from .server import HubSpotSandbox

__all__ = ["HubSpotSandbox"]
