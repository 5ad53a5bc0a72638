"""The error table: Salesforce (status, errorCode) -> the connector's error family."""
from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceError

from connectors.base import AuthExpired, ConfigError, CrmError, QuotaReached, RateLimited, TransientError
from connectors.salesforce.errors import translate


def _error(status, code, message="m"):
    return SalesforceError("https://x/services/data/v59.0/query/", status, "query",
                           [{"message": message, "errorCode": code}])


@pytest.mark.parametrize("status, code, message, cls, retryable", [
    (401, "INVALID_SESSION_ID", "Session expired or invalid", AuthExpired, False),
    (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", QuotaReached, False),
    (403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.", RateLimited, True),
    (503, "SERVER_UNAVAILABLE", "down", TransientError, True),
    (500, "UNKNOWN_EXCEPTION", "boom", TransientError, True),
    (400, "UNABLE_TO_LOCK_ROW", "locked", TransientError, True),
    (400, "MALFORMED_QUERY", "bad", ConfigError, False),
    (400, "INVALID_FIELD", "No such column", ConfigError, False),
    (404, "NOT_FOUND", "gone", ConfigError, False),
    (400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "rule", CrmError, False),
])
def test_each_salesforce_error_maps_to_one_action(status, code, message, cls, retryable):
    error = translate(_error(status, code, message), what="GET query/", usage=(10, 100))
    assert type(error) is cls
    assert (error.code, error.status, error.retryable) == (code, status, retryable)
    assert error.message == f"Salesforce GET query/ failed ({status} {code}): {message}"


def test_a_spent_daily_quota_reports_the_limit_as_used():
    error = translate(_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
                      what="GET query/", usage=(10, 100))
    assert (error.used, error.limit) == (100, 100)


def test_non_json_error_bodies_still_translate():
    error = translate(SalesforceError("u", 502, "query", "<html>Bad gateway</html>"), what="GET query/",
                      usage=(None, None))
    assert type(error) is TransientError and error.code == "UNKNOWN_ERROR"
