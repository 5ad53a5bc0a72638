"""Where each connection's CRM sends its change notifications.

A CRM whose notifications carry no secret (a Salesforce outbound message names its org, and an
org id is not a secret) gets one endpoint per connection, ``/webhooks/<crm>/<token>``: the token is
an HMAC of the connection id under the service's secret key, so it cannot be guessed, needs no
storage, and is shown to the admin on the setup page. Requests anywhere else are refused. Other
CRMs sign their requests and share ``/webhooks/<crm>``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from connectors import registry
from integration.config import Settings


def _token(settings: Settings, connection_id: int) -> str:
    digest = hmac.new(settings.secret_key.encode(), f"notifications:{connection_id}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def has_own_endpoint(crm: str) -> bool:
    """Whether each connection of ``crm`` gets its own notification endpoint."""
    receiver = registry.spec(crm).receiver
    return receiver is not None and receiver.per_connection_url


def notification_url(settings: Settings, crm: str, connection_id: int, base_url: str | None = None) -> str:
    """The URL the CRM of a connection sends its notifications to."""
    base = (base_url or settings.base_url).rstrip("/")
    if has_own_endpoint(crm):
        return f"{base}/webhooks/{crm}/{_token(settings, connection_id)}"
    return f"{base}/webhooks/{crm}"


def is_own_endpoint(settings: Settings, connection_id: int, subpath: str) -> bool:
    """Whether ``subpath`` (what follows ``/webhooks/<crm>/``) is this connection's endpoint."""
    return hmac.compare_digest(subpath.encode(), _token(settings, connection_id).encode())
