"""One authenticated line to Salesforce: simple-salesforce over a TLS session we control, with
bounded token refresh, jittered retries (tenacity), call counting and the API quota ceiling."""
from __future__ import annotations

import logging
import math
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterator, TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from connectors.base import ApiUsage, AuthFailed, CrmError, QuotaReached, TransientError
from connectors.rest import call_with_refresh
from connectors.salesforce.errors import translate
from connectors.salesforce.oauth import refresh_access_token, timed_session
from connectors.salesforce.query_pages import QueryReader
from connectors.salesforce.settings import SalesforceSettings

log = logging.getLogger(__name__)
T = TypeVar("T")


class SalesforceClient:
    """Calls Salesforce for the connector; every HTTP call is counted in ``usage``."""

    def __init__(self, settings: SalesforceSettings, usage: ApiUsage,
                 on_tokens: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.settings = settings
        self.usage = usage
        self._on_tokens = on_tokens
        self.session = timed_session(settings.ca_file, settings.timeout)
        self._access_token = settings.access_token.get_secret_value()
        self.sf = Salesforce(instance_url=settings.instance_url, session_id=self._access_token,
                             session=self.session, version=settings.api_version)
        self.ceiling_stop: str | None = None
        self._server_date: datetime | None = None
        self.session.hooks["response"].append(self._note_date)

    def __repr__(self) -> str:
        return f"<SalesforceClient {self.settings.instance_url} v{self.settings.api_version}>"

    # --------------------------------------------------------------------------- calls
    def query(self, soql: str) -> Iterator[dict[str, Any]]:
        """Every page of ``soql``'s result: the first by ``GET query/``, then up to five more a
        composite call (see ``connectors.salesforce.query_pages``)."""
        return iter(QueryReader(self).open(soql))

    def more(self, next_records_url: str) -> dict[str, Any]:
        """The page at a ``nextRecordsUrl`` (of a query or of a nested child result)."""
        return self.call("GET query/{locator}", lambda: self.sf.query_more(
            next_records_url, identifier_is_url=True))

    def tooling_query(self, soql: str) -> list[dict[str, Any]]:
        """All records of a Tooling API query (small results: one page)."""
        page = self.call("GET tooling/query/", lambda: self.sf.restful(
            "tooling/query/", params={"q": soql}))
        return list(page["records"]) if page else []

    def rest(self, route: str, path: str, method: str = "GET", *, idempotent: bool = True, **kwargs: Any) -> Any:
        """A REST call relative to ``/services/data/vXX.X/`` (``route`` names it in the counters;
        ``idempotent``: see ``call``)."""
        return self.call(route, lambda: self.sf.restful(path, method=method, **kwargs), idempotent=idempotent)

    def userinfo(self) -> dict[str, Any]:
        """The OAuth ``userinfo`` of the connected user (``user_id``, ``organization_id``...)."""
        return self.call("GET oauth2/userinfo", lambda: self.sf.oauth2("userinfo"))

    def server_second(self) -> datetime:
        """Salesforce's clock at the last response, to the second (its ``Date`` header; ours when
        it sent none): records stamped before it cannot be joined by more of the same second."""
        if self._server_date is not None:
            return self._server_date
        return datetime.now(timezone.utc).replace(microsecond=0)

    def _note_date(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        try:
            self._server_date = parsedate_to_datetime(response.headers["Date"]).astimezone(timezone.utc)
        except (KeyError, TypeError, ValueError):
            self._server_date = None

    # ----------------------------------------------------------------------- machinery
    def check_ceiling(self) -> None:
        """Raise QuotaReached when the configured share of the daily quota is used."""
        used, limit = self.usage.quota_used, self.usage.quota_limit
        if used is None or not limit:
            return
        ceiling = math.floor(limit * self.settings.quota_share)
        if used >= ceiling:
            self.ceiling_stop = (f"stopped at the configured ceiling of {self.settings.quota_share:.0%} of the "
                                 f"daily Salesforce API quota: {used} of {limit} calls used")
            log.warning("salesforce: %s", self.ceiling_stop)
            raise QuotaReached(self.ceiling_stop, used=used, limit=limit, code="QUOTA_CEILING",
                               unsent=True)

    def call(self, route: str, fn: Callable[[], T], *, idempotent: bool = True) -> T:
        """Run ``fn`` (one HTTP call) with retries on transient errors and bounded token refresh.

        A call that is not ``idempotent`` (a write) is retried only when Salesforce answered (a 503,
        a lock): after no answer (a timeout, a dropped connection) it may still land, so sending it
        again could apply it twice; the error goes to the caller, whose outbox settles it."""
        def worth_retrying(exc: BaseException) -> bool:
            return isinstance(exc, CrmError) and exc.retryable and (idempotent or not exc.unanswered)

        retrying = Retrying(
            retry=retry_if_exception(worth_retrying),
            wait=wait_random_exponential(multiplier=self.settings.retry_wait_seconds,
                                         max=self.settings.retry_max_wait_seconds),
            stop=stop_after_attempt(self.settings.retry_attempts), reraise=True,
            before_sleep=lambda state: log.info("salesforce: retrying %s after %s", route,
                                                state.outcome.exception() if state.outcome else None))
        return retrying(self._with_refresh, route, fn)

    def _with_refresh(self, route: str, fn: Callable[[], T]) -> T:
        return call_with_refresh(lambda: self._once(route, fn), self,
                                 max_refreshes=self.settings.max_refreshes)

    def _once(self, route: str, fn: Callable[[], T]) -> T:
        self.check_ceiling()
        self.usage.count(route)
        try:
            result = fn()
        except SalesforceError as exc:
            error = translate(exc, what=route, usage=(self.usage.quota_used, self.usage.quota_limit))
            if isinstance(error, QuotaReached) and error.used is not None:
                self.usage.quota_used = error.used
            raise error from None
        except requests.RequestException as exc:
            raise TransientError(f"Salesforce {route} failed: {type(exc).__name__}", code="CONNECTION_ERROR") from None
        usage = self.sf.api_usage.get("api-usage")
        if usage is not None:
            self.usage.quota_used, self.usage.quota_limit = usage.used, usage.total
        return result

    @property
    def can_refresh(self) -> bool:
        """Whether a refresh token and the connected app's consumer key are configured."""
        return self.settings.refresh_token is not None and self.settings.client_id is not None

    def refresh(self) -> None:
        """Get a new access token with the refresh token and hand it to simple-salesforce."""
        if not self.can_refresh:
            raise AuthFailed("the Salesforce session expired and no refresh token is configured",
                              code="INVALID_SESSION_ID")
        self.usage.count("POST oauth2/token")
        secret = self.settings.client_secret.get_secret_value() if self.settings.client_secret else None
        body = refresh_access_token(self.settings.login_url, self.settings.client_id, secret,
                                    self.settings.refresh_token.get_secret_value(), self.session)
        self._access_token = body["access_token"]
        self.sf.session_id = self._access_token
        self.sf.headers["Authorization"] = "Bearer " + self._access_token
        log.info("salesforce: access token refreshed")
        if self._on_tokens is not None:
            tokens = {"access_token": self._access_token}
            if body.get("refresh_token"):
                tokens["refresh_token"] = body["refresh_token"]
            self._on_tokens(tokens)
