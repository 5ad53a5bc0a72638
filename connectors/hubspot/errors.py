"""HubSpot failures as data: status and category decide the connector error and what to do.

The table is the single place that knows which HubSpot answers are worth a retry, which mean the
token must be refreshed, and which are final.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from connectors.base import (AuthExpired, AuthFailed, ConfigError, CrmError, RateLimited,
                             TransientError)

#: (status, category or None for any) -> error class. First match wins.
ERROR_TABLE: tuple[tuple[int, str | None, type[CrmError]], ...] = (
    (401, "EXPIRED_AUTHENTICATION", AuthExpired),
    (401, None, AuthFailed),
    (403, None, AuthFailed),
    (429, None, RateLimited),
    (400, "VALIDATION_ERROR", CrmError),
    (404, None, CrmError),
    (409, None, CrmError),
    (500, None, TransientError),
    (502, None, TransientError),
    (503, None, TransientError),
    (504, None, TransientError),
    (0, None, TransientError),
)


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
        return ConfigError(message + " (run provision to create the write-back properties)",
                           code=code, status=status, details=parsed)
    error_class = CrmError
    for table_status, table_category, candidate in ERROR_TABLE:
        if table_status == status and table_category in (None, category):
            error_class = candidate
            break
    else:
        if status >= 500:
            error_class = TransientError
    if error_class is RateLimited:
        return RateLimited(message, retry_after=retry_after_seconds(headers, parsed.get("policyName")),
                           code=code, status=status, details=parsed)
    return error_class(message, code=code, status=status, details=parsed)
