"""The error table: Salesforce (status, errorCode, message) -> an Action."""
from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceError

from connectors.actions import Action
from connectors.salesforce.errors import record_action, translate


def _error(status, code, message="m"):
    return SalesforceError("https://x/services/data/v59.0/query/", status, "query",
                           [{"message": message, "errorCode": code}])


@pytest.mark.parametrize("status, code, message, action", [
    (401, "INVALID_SESSION_ID", "Session expired or invalid", Action.REFRESH_AUTH),
    (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", Action.PAUSE_QUOTA),
    (403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.", Action.BACKOFF),
    (503, "SERVER_UNAVAILABLE", "down", Action.BACKOFF),
    (500, "UNKNOWN_EXCEPTION", "boom", Action.BACKOFF),
    (400, "UNABLE_TO_LOCK_ROW", "locked", Action.BACKOFF),
    (400, "INVALID_QUERY_LOCATOR", "gone", Action.RETRY),
    (400, "MALFORMED_QUERY", "bad", Action.FAIL),
    (400, "INVALID_FIELD", "No such column", Action.FAIL),
    (404, "NOT_FOUND", "gone", Action.FAIL),
    (400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "rule", Action.FAIL_RECORD),
    (400, "SOMETHING_NEW", "?", Action.FAIL),
])
def test_each_salesforce_error_maps_to_one_action(status, code, message, action):
    error = translate(_error(status, code, message), what="GET query/", usage=(10, 100))
    assert error.action is action
    assert (error.code, error.status, error.retryable) == (code, status, action in (Action.RETRY, Action.BACKOFF))
    assert error.message == f"Salesforce GET query/ failed ({status} {code}): {message}"


@pytest.mark.parametrize("code, action", [
    ("UNABLE_TO_LOCK_ROW", Action.BACKOFF), ("SERVER_UNAVAILABLE", Action.BACKOFF),
    ("FIELD_CUSTOM_VALIDATION_EXCEPTION", Action.FAIL_RECORD), ("STRING_TOO_LONG", Action.FAIL_RECORD),
    ("INVALID_FIELD", Action.FAIL_RECORD), ("SOMETHING_NEW", Action.FAIL_RECORD),
])
def test_per_record_status_codes(code, action):
    assert record_action(code) is action


def test_a_spent_daily_quota_reports_the_limit_as_used():
    error = translate(_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
                      what="GET query/", usage=(10, 100))
    assert (error.used, error.limit) == (100, 100)


def test_non_json_error_bodies_still_translate():
    error = translate(SalesforceError("u", 502, "query", "<html>Bad gateway</html>"), what="GET query/",
                      usage=(None, None))
    assert error.action is Action.BACKOFF and error.code == "UNKNOWN_ERROR"
