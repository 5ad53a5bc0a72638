"""One authenticated HubSpot session: cached client APIs, token refresh, budget, retries, counts.

Every HTTP call the connector makes goes through :meth:`HubSpotSession.call`, which waits for a slot
of the portal's :class:`RateBudget`, counts the call in :class:`ApiUsage`, refreshes the OAuth
token before it expires or once after a 401, and retries 429/5xx a bounded number of times.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

import requests
import urllib3
from hubspot import HubSpot
from hubspot import oauth as hs_oauth
from hubspot.crm import contacts as hs_contacts, deals as hs_deals
from hubspot.crm import owners as hs_owners, pipelines as hs_pipelines, properties as hs_properties
from hubspot.crm.objects import tasks as hs_tasks
from tenacity import Retrying, retry_if_exception, stop_after_attempt

from connectors.base import ApiUsage, AuthFailed, ConfigError, CrmError, timeouts_from

from connectors.rest import call_with_refresh

from .errors import translate
from .oauth import grant_tokens
from .properties import parse_hubspot_datetime, to_hubspot_datetime
from .ratelimit import RateBudget

DEFAULT_BASE_URL = "https://api.hubapi.com"
#: Refresh this long before the access token expires.
REFRESH_MARGIN = timedelta(seconds=60)
MAX_ATTEMPTS = 6
MAX_WAIT_SECONDS = 30.0
#: The search endpoints' limit is per second: a search 429 pauses searches this long at least.
SEARCH_WINDOW_SECONDS = 1.0

_API_EXCEPTIONS = tuple({module.ApiException
                        for module in (hs_deals, hs_contacts, hs_properties, hs_pipelines, hs_oauth,
                                       hs_owners, hs_tasks)})


def _wait(state: Any) -> float:
    """Back off: at least the server's hint, doubling per attempt, capped."""
    exc = state.outcome.exception()
    hint = getattr(exc, "retry_after", 0.0)
    return min(MAX_WAIT_SECONDS, max(hint, 0.5 * 2 ** (state.attempt_number - 1)))


class HubSpotSession:
    """Client APIs bound to one portal's credentials."""

    def __init__(self, settings: Mapping[str, Any], on_tokens: Callable[[dict[str, Any]], None] | None,
                 budget: RateBudget, usage: ApiUsage, *, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.base_url = str(settings.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        self._access_token = settings.get("access_token")
        if not self._access_token:
            raise ConfigError("HubSpot settings need an access_token", code="BAD_SETTING")
        self._refresh_token = settings.get("refresh_token")
        self._client_id = settings.get("client_id")
        self._client_secret = settings.get("client_secret")
        expires = settings.get("expires_at")
        self._expires_at = (expires if isinstance(expires, datetime) else
                            parse_hubspot_datetime(expires) if expires else None)
        self._on_tokens = on_tokens
        self.budget = budget
        self.usage = usage
        self.max_attempts = max_attempts
        self.timeout = timeouts_from(settings)
        self._lock = threading.RLock()
        client = HubSpot(access_token=self._access_token, host=self.base_url,
                         retry=urllib3.Retry(total=0, raise_on_status=False))
        crm = client.crm
        # Each property access builds a new ApiClient (and connection pool): keep one of each.
        self.apis: dict[str, Any] = {
            "deals.batch": crm.deals.batch_api, "deals.search": crm.deals.search_api,
            "contacts.batch": crm.contacts.batch_api, "contacts.search": crm.contacts.search_api,
            "properties": crm.properties.core_api, "groups": crm.properties.groups_api,
            "pipelines": crm.pipelines.pipelines_api, "owners": crm.owners.owners_api,
            "tasks.batch": crm.objects.tasks.batch_api, "tasks.search": crm.objects.tasks.search_api,
        }
        self._tokens_api = client.oauth.tokens_api

    def __repr__(self) -> str:
        return f"HubSpotSession(base_url={self.base_url!r})"

    @property
    def can_refresh(self) -> bool:
        return bool(self._refresh_token and self._client_id and self._client_secret)

    # ------------------------------------------------------------------------------ tokens
    def _install(self, access_token: str) -> None:
        self._access_token = access_token
        for api in self.apis.values():
            api.api_client.configuration.access_token = access_token

    def refresh(self) -> None:
        """Trade the refresh token for a new access token and tell ``on_tokens``."""
        with self._lock:
            self._refresh()

    def _refresh(self) -> None:
        if not self.can_refresh:
            raise AuthFailed("HubSpot access token expired and no refresh token is configured",
                              code="EXPIRED_AUTHENTICATION", status=401)
        self.budget.acquire()
        self.usage.count("POST /oauth/v1/token")
        response = grant_tokens(self._tokens_api, "token refresh", self.timeout,
                                grant_type="refresh_token",
                                refresh_token=self._refresh_token, client_id=self._client_id,
                                client_secret=self._client_secret)
        self._refresh_token = response.refresh_token or self._refresh_token
        self._expires_at = datetime.now(timezone.utc) + timedelta(seconds=response.expires_in)
        self._install(response.access_token)
        if self._on_tokens:
            self._on_tokens({"access_token": response.access_token,
                             "refresh_token": self._refresh_token,
                             "expires_at": to_hubspot_datetime(self._expires_at)})

    def _refresh_if_due(self) -> None:
        with self._lock:
            if (self._expires_at and self.can_refresh
                    and self._expires_at - REFRESH_MARGIN <= datetime.now(timezone.utc)):
                self.refresh()

    # ------------------------------------------------------------------------------- calls
    def _once(self, route: str, fn: Callable[..., Any], args: tuple[Any, ...],
              kwargs: dict[str, Any], search: bool) -> Any:
        self.budget.acquire(search=search)
        self.usage.count(route)
        try:
            return fn(*args, **kwargs)
        except _API_EXCEPTIONS as exc:
            error = translate(exc.status or 0, exc.body, exc.headers, route)
        except (urllib3.exceptions.HTTPError, requests.RequestException) as exc:
            error = translate(0, None, None, f"{route} ({type(exc).__name__})")
        if error.status == 429:
            # A search 429 may carry no policyName: a search request refused without naming the
            # rolling limit hit the search endpoints' own per-second limit.
            policy = (error.details or {}).get("policyName")
            on_search = policy == "SECONDLY" or (search and policy is None)
            if on_search:
                error.retry_after = max(error.retry_after, SEARCH_WINDOW_SECONDS)
            self.budget.hold(error.retry_after, search=on_search)
        raise error

    def _request(self, route: str, fn: Callable[..., Any], *args: Any, search: bool = False,
                 idempotent: bool = True, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` within budget, retrying 429/5xx and refreshing once on 401.

        A call that is not ``idempotent`` (a batch update or create) is retried only when HubSpot
        answered: after no answer it may still land, and sending it again could apply it twice
        (or create a second task); the error goes to the caller, whose outbox settles it."""
        self._refresh_if_due()

        def worth_retrying(exc: BaseException) -> bool:
            return isinstance(exc, CrmError) and exc.retryable and (idempotent or not exc.unanswered)

        def with_retries() -> Any:
            for attempt in Retrying(retry=retry_if_exception(worth_retrying),
                                    stop=stop_after_attempt(self.max_attempts), wait=_wait,
                                    reraise=True):
                with attempt:
                    return self._once(route, fn, args, kwargs, search)

        return call_with_refresh(with_retries, self, max_refreshes=1)

    def call(self, route: str, api: str, method: str, *args: Any, search: bool = False,
             raw: bool = False, idempotent: bool = True, **kwargs: Any) -> Any:
        """Call ``self.apis[api].<method>(*args, **kwargs)`` within budget, with bounded retries.

        ``route`` names the call in usage counts and error messages (``POST /crm/v3/...``).
        ``raw`` returns the parsed JSON instead of the client's models: building a model per
        record (a dateutil parse per timestamp) costs more than the request on large pulls.
        ``idempotent=False`` marks a write that must not be sent again after no answer.
        """
        fn = getattr(self.apis[api], method)
        unparsed = {"_preload_content": False} if raw else {}
        response = self._request(route, fn, *args, search=search, idempotent=idempotent,
                                 _request_timeout=self.timeout, **unparsed, **kwargs)
        if not raw:
            return response
        self._note_quota(response.headers)
        return json.loads(response.data)

    def _note_quota(self, headers: Mapping[str, str]) -> None:
        """Record the daily quota HubSpot reports. Only private apps have a daily limit and get
        these headers; OAuth (public) apps get the rolling-window headers alone."""
        daily = headers.get("X-HubSpot-RateLimit-Daily")
        remaining = headers.get("X-HubSpot-RateLimit-Daily-Remaining")
        if daily and remaining and daily.isdigit() and remaining.isdigit():
            self.usage.quota_limit = int(daily)
            self.usage.quota_used = int(daily) - int(remaining)

    def _get_json(self, route: str, path: str) -> dict[str, Any]:
        response = requests.get(self.base_url + path, timeout=self.timeout,
                                headers={"Authorization": f"Bearer {self._access_token}"})
        if response.status_code != 200:
            raise translate(response.status_code, response.text, response.headers, route)
        return response.json()

    def raw_get(self, route: str, path: str) -> dict[str, Any]:
        """GET an endpoint the client library does not cover (account details)."""
        return self._request(route, self._get_json, route, path)
