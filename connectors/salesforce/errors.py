"""Salesforce errors as data: (HTTP status, errorCode, message phrase) -> an Action.

Per-record statusCodes live in the same table, so the read path, the write path and the tests
share one table.
"""
from __future__ import annotations

from typing import Any

from simple_salesforce.exceptions import SalesforceError

from connectors.actions import ANY, Action, ErrorRule, ErrorTable
from connectors.base import CrmError, QuotaReached, error_for

#: Salesforce's answers -> what to do. First match wins; see ErrorTable for the fallback.
ERROR_TABLE = ErrorTable((
    # A spent daily quota and a concurrency limit share the code; only the message tells them apart.
    ErrorRule(ANY, "REQUEST_LIMIT_EXCEEDED", Action.PAUSE_QUOTA, phrase="TotalRequests Limit exceeded"),
    ErrorRule(ANY, "REQUEST_LIMIT_EXCEEDED", Action.BACKOFF),
    ErrorRule(ANY, "INVALID_SESSION_ID", Action.REFRESH_AUTH),
    ErrorRule(ANY, "INVALID_AUTH_HEADER", Action.REFRESH_AUTH),
    ErrorRule(ANY, "UNABLE_TO_LOCK_ROW", Action.BACKOFF),
    ErrorRule(ANY, "SERVER_UNAVAILABLE", Action.BACKOFF),
    ErrorRule(ANY, "QUERY_TIMEOUT", Action.BACKOFF),
    ErrorRule(ANY, "INVALID_QUERY_LOCATOR", Action.RETRY),
    ErrorRule(ANY, "MALFORMED_QUERY", Action.FAIL),
    ErrorRule(ANY, "INVALID_FIELD", Action.FAIL),
    ErrorRule(ANY, "INVALID_TYPE", Action.FAIL),
    ErrorRule(ANY, "NOT_FOUND", Action.FAIL),
    ErrorRule(ANY, "API_DISABLED_FOR_ORG", Action.FAIL),
    ErrorRule(ANY, "INSUFFICIENT_ACCESS", Action.FAIL),
    # Per-record statusCodes of composite/sobjects: the record stays in the outbox.
    ErrorRule(ANY, "FIELD_CUSTOM_VALIDATION_EXCEPTION", Action.FAIL_RECORD),
    ErrorRule(ANY, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", Action.FAIL_RECORD),
    ErrorRule(ANY, "STRING_TOO_LONG", Action.FAIL_RECORD),
    ErrorRule(ANY, "REQUIRED_FIELD_MISSING", Action.FAIL_RECORD),
    ErrorRule(ANY, "MALFORMED_ID", Action.FAIL_RECORD),
    ErrorRule(ANY, "INVALID_CROSS_REFERENCE_KEY", Action.FAIL_RECORD),
    ErrorRule(ANY, "ENTITY_IS_DELETED", Action.FAIL_RECORD),
    ErrorRule(ANY, "DUPLICATE_VALUE", Action.FAIL_RECORD),
    ErrorRule(ANY, "INVALID_FIELD_FOR_INSERT_UPDATE", Action.FAIL_RECORD),
    ErrorRule(401, ANY, Action.REFRESH_AUTH),
    ErrorRule(404, ANY, Action.FAIL),
))


def record_action(code: str) -> Action:
    """What to do about one record composite/sobjects refused with ``code``: back off for lock
    contention and outages, else the record fails as it is."""
    action = ERROR_TABLE.action(200, code)
    return action if action in (Action.BACKOFF, Action.RETRY) else Action.FAIL_RECORD


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
    action = ERROR_TABLE.action(exc.status, code, message)
    if action is Action.PAUSE_QUOTA:
        used = usage[1] if usage[1] is not None else usage[0]
        return QuotaReached(text, used=used, limit=usage[1], code=code, status=exc.status)
    return error_for(action, text, code=code, status=exc.status)
