"""A local HubSpot that speaks the real v3 wire protocol (see :class:`HubSpotSandbox`).

HubSpot paths served: ``/crm/v3/objects/{deals|contacts|0-3|0-1}`` (list, get, PATCH, ``batch/read``,
``batch/update``, ``search``), ``/crm/v3/pipelines/deals``, ``/crm/v3/properties/{type}`` (and
``/groups``), ``/account-info/v3/details``, ``/oauth/authorize``, ``/oauth/v1/token``,
``/oauth/v1/access-tokens/{token}``.

Controls (JSON, no auth) under ``/__sandbox__/``:

- ``GET info``: what :meth:`HubSpotSandbox.info` returns;
- ``POST latency`` ``{"ms": 50}``: delay every API request;
- ``POST faults`` ``{"rate_429": 0.1, "rate_503": 0.1, "fail_next": [503, 429],
  "record_errors": [{"objectType": "deals", "id": "...", "category": "...", "message": "..."}]}``:
  random 429/503 shares, statuses for the next requests, per-record 207 failures of batch updates
  (each call replaces all faults; ``{}`` clears them);
- ``POST expire-tokens``: every OAuth access token expires now (the private-app token never does);
- ``GET calls`` / ``POST calls/reset``: API calls by route;
- ``POST move`` ``{"objectType": "deals", "id": "...", "properties": {"dealstage": "..."}}``: a rep
  edit (history entry with sourceType CRM_UI, new modified date, webhooks);
- ``POST webhooks`` ``{"targetUrl", "subscriptions": ["deal.propertyChange", ...],
  "propertyNames": [...]}``: subscribe the app's target; ``GET webhooks`` lists delivery attempts.

:class:`HubSpotPortals` serves many portals from one port (``journey sandbox hubspot --portals N``).
"""
from .portals import HubSpotPortals
from .server import HubSpotSandbox

__all__ = ["HubSpotPortals", "HubSpotSandbox"]
