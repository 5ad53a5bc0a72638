"""HubSpot failures as data: status and category decide the action (see connectors.actions).

The table is the single place that knows which HubSpot answers are worth a retry, which mean the
token must be refreshed, and which are final.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from connectors.actions import ANY, Action, ErrorRule, ErrorTable
from connectors.base import CrmError, error_for

#: HubSpot's answers (status, category or errorType) -> what to do. First match wins.
ERROR_TABLE = ErrorTable((
    # Any 401 is worth one token refresh; when none is possible the connector turns it into
    # REAUTHORIZE. A 403 is a missing scope: only a new install grants it.
    ErrorRule(401, ANY, Action.REFRESH_AUTH),
    ErrorRule(403, ANY, Action.REAUTHORIZE),
    ErrorRule(429, ANY, Action.BACKOFF),
    ErrorRule(400, "PROPERTY_DOESNT_EXIST", Action.FAIL),
    ErrorRule(400, "VALIDATION_ERROR", Action.FAIL),
    ErrorRule(404, ANY, Action.FAIL),
    ErrorRule(409, ANY, Action.FAIL),
    # Per-record categories of a 207 batch answer.
    ErrorRule(ANY, "RATE_LIMITS", Action.BACKOFF),
    ErrorRule(ANY, "SERVICE_UNAVAILABLE", Action.BACKOFF),
    ErrorRule(ANY, "INTERNAL_ERROR", Action.BACKOFF),
    ErrorRule(ANY, "LOCKED", Action.BACKOFF),
    ErrorRule(ANY, "OBJECT_NOT_FOUND", Action.FAIL_RECORD),
    ErrorRule(ANY, "VALIDATION_ERROR", Action.FAIL_RECORD),
    ErrorRule(ANY, "INVALID_PROPERTY_VALUE", Action.FAIL_RECORD),
))


def record_action(category: str) -> Action:
    """What to do about one record a batch answer refused with ``category``: back off for
    transient categories, else the record fails as it is."""
    action = ERROR_TABLE.action(207, category)
    return action if action.retryable else Action.FAIL_RECORD


def parse_body(body: Any) -> dict[str, Any]:
    """The JSON error body HubSpot sent, or {} when it sent something else."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(body) if isinstance(body, str) else body
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def retry_after_seconds(headers: Mapping[str, str] | None, policy: str | None) -> float:
    """How long to pause after a 429: a second for the per-second policy, else one slot's share
    of the rolling window (the window frees one request at a time)."""
    if policy == "SECONDLY":
        return 1.0
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    try:
        interval = int(headers.get("x-hubspot-ratelimit-interval-milliseconds", "10000")) / 1000
        limit = max(1, int(headers.get("x-hubspot-ratelimit-max", "110")))
    except ValueError:
        return 1.0
    return max(0.5, interval / limit * 10)


def translate(status: int, body: Any, headers: Mapping[str, str] | None, what: str) -> CrmError:
    """A connector error for HubSpot's answer to ``what`` (a route name; no credentials)."""
    parsed = parse_body(body)
    category = parsed.get("category") or parsed.get("status") or f"HTTP_{status}"
    code = parsed.get("errorType") or category
    message = f"HubSpot {what}: {status} {code}: {parsed.get('message') or 'no message'}"
    if status == 400 and "PROPERTY_DOESNT_EXIST" in str(parsed.get("message", "")):
        category, message = "PROPERTY_DOESNT_EXIST", message + " (run provision to create the write-back properties)"
    action = ERROR_TABLE.action(status, category)
    retry_after = retry_after_seconds(headers, parsed.get("policyName")) if status == 429 else 0.0
    return error_for(action, message, code=code, status=status, details=parsed, retry_after=retry_after)
