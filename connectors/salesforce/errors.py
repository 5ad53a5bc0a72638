"""Salesforce errors as data: (HTTP status, errorCode) -> the connector error family.

Per-record codes that are worth retrying (lock contention) live here too, so that the read path,
the write path and the tests share one table.
"""
from __future__ import annotations

from typing import Any

from simple_salesforce.exceptions import SalesforceError

from connectors.base import (
    AuthExpired, ConfigError, CrmError, QuotaReached, RateLimited, TransientError,
)

#: errorCode -> error class, checked before the status table.
BY_CODE: dict[str, type[CrmError]] = {
    "INVALID_SESSION_ID": AuthExpired,
    "UNABLE_TO_LOCK_ROW": TransientError,
    "SERVER_UNAVAILABLE": TransientError,
    "QUERY_TIMEOUT": TransientError,
    "MALFORMED_QUERY": ConfigError,
    "INVALID_FIELD": ConfigError,
    "INVALID_TYPE": ConfigError,
    "NOT_FOUND": ConfigError,
    "API_DISABLED_FOR_ORG": ConfigError,
    "INSUFFICIENT_ACCESS": ConfigError,
    "INVALID_QUERY_LOCATOR": TransientError,
}

#: HTTP status -> error class when the code says nothing more specific.
BY_STATUS: dict[int, type[CrmError]] = {
    401: AuthExpired,
    404: ConfigError,
    500: TransientError,
    502: TransientError,
    503: TransientError,
    504: TransientError,
}

#: Per-record statusCodes a later attempt may clear.
RETRYABLE_RECORD_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"})

#: Salesforce's message when the org's daily API request limit is spent.
_DAILY_LIMIT = "TotalRequests Limit exceeded"


def first_error(content: Any) -> tuple[str, str]:
    """(errorCode, message) of a Salesforce error body (a list of errors, or plain text)."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        item = content[0]
        return str(item.get("errorCode", "UNKNOWN_ERROR")), str(item.get("message", ""))
    if isinstance(content, dict):
        return str(content.get("errorCode") or content.get("error") or "UNKNOWN_ERROR"), str(
            content.get("message") or content.get("error_description") or "")
    return "UNKNOWN_ERROR", str(content or "")[:200]


def translate(exc: SalesforceError, *, what: str, usage: tuple[int | None, int | None]) -> CrmError:
    """The connector error for a failed call; ``what`` names the call (``GET query/``)."""
    code, message = first_error(exc.content)
    text = f"Salesforce {what} failed ({exc.status} {code}): {message.strip()}"
    if code == "REQUEST_LIMIT_EXCEEDED":
        if _DAILY_LIMIT.lower() in message.lower():
            used = usage[1] if usage[1] is not None else usage[0]
            return QuotaReached(text, used=used, limit=usage[1], code=code, status=exc.status)
        return RateLimited(text, code=code, status=exc.status)
    cls = BY_CODE.get(code) or BY_STATUS.get(exc.status) or CrmError
    return cls(text, code=code, status=exc.status)
