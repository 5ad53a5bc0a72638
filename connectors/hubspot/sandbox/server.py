"""``HubSpotSandbox``: the local HubSpot as a real HTTP server in a background thread."""
from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from connectors.hubspot.ratelimit import SlidingWindow

from .app import create_app
from .auth import Credentials
from .seed import parse_seed
from .store import Portal
from .webhooks import DEFAULT_RETRY_DELAYS, WebhookDispatcher
from .wire import iso_ms, now_utc


class _QuietHandler(WSGIRequestHandler):
    """Keep-alive like HubSpot's edge, without a log line per request."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class ServedInBackground:
    """Serving from a background thread, shared by one portal and many portals behind one port.

    A subclass gives its WSGI entry point (``_wsgi``), what to do once the port is known
    (``_serving(base_url)``) and once serving stopped (``_stopped()``).
    """

    host: str
    port: int
    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None
    _thread_name = "hubspot-sandbox"

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        raise TypeError(f"{type(self).__name__} serves no WSGI app")

    def _serving(self, base_url: str) -> None:
        """Called with the address once the server is bound."""

    def _stopped(self) -> None:
        """Called once the server is shut down."""

    def start(self):
        """Serve in a background thread (port 0 picks a free port); returns self."""
        if self._server is not None:
            return self
        self._server = make_server(self.host, self.port, self._wsgi, threaded=True,
                                   request_handler=_QuietHandler)
        self._serving(f"http://{self.host}:{self._server.server_port}")
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name=self._thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and delivering webhooks."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._stopped()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class HubSpotSandbox(ServedInBackground):
    """A local HubSpot portal speaking the v3 wire protocol that hubspot-api-client 12 expects.

    ``seed`` is the seed file's ``hubspot`` value (validated; a bad seed raises
    :class:`connectors.seedfile.SeedError` listing every problem). Options:

    - ``rate_limit`` / ``rate_window_seconds``: requests per rolling window per portal (110 / 10 s);
    - ``search_per_second``: the search endpoints' own limit (5);
    - ``stage_dates``: serve ``hs_v2_date_entered_*``/``exited_*`` (False acts like a lower tier);
    - ``latency_ms``: delay added to every API request;
    - ``token_ttl_seconds``: OAuth access token lifetime (1800);
    - ``webhook_retry_delays``: seconds between webhook attempts (HubSpot's schedule, scaled down).
    """

    def __init__(self, seed: dict[str, Any] | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 rate_limit: int = 110, rate_window_seconds: float = 10.0,
                 search_per_second: int = 5, stage_dates: bool = True, latency_ms: float = 0.0,
                 token_ttl_seconds: int = 1800,
                 webhook_retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS) -> None:
        parsed = parse_seed(seed)
        self.host = host
        self.port = port
        self.latency_ms = latency_ms
        self.fault_429 = 0.0
        self.fault_503 = 0.0
        #: Statuses (429, 5xx) to answer the next API requests with, one each, in order.
        self.fail_next: list[int] = []
        self.calls: dict[str, int] = {}
        self.calls_total = 0
        self.rate = SlidingWindow(rate_limit, rate_window_seconds)
        self.search_rate = SlidingWindow(search_per_second, 1.0)
        self.credentials = Credentials(ttl_seconds=token_ttl_seconds, hub_id=parsed.portal_id)
        self.webhooks: WebhookDispatcher | None = None
        self._webhook_retry_delays = tuple(webhook_retry_delays)
        self.portal = Portal(parsed, stage_dates=stage_dates, on_change=self._notify)
        self._tokens = self.credentials.issue()
        self._tokens_expire_at = iso_ms(now_utc() + timedelta(seconds=token_ttl_seconds))
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._mounted_at: str | None = None
        #: The WSGI app serving this portal; set by :meth:`mount`.
        self.app: Any = None

    def _notify(self, changes: list[Any]) -> None:
        if self.webhooks is not None:
            self.webhooks.notify(changes)

    @property
    def base_url(self) -> str:
        """``http://host:port`` once started."""
        if self._mounted_at is None:
            raise RuntimeError("the sandbox is not started")
        return self._mounted_at

    def mount(self, base_url: str) -> Any:
        """Get ready to serve at ``base_url`` from someone else's server (several portals behind
        one port); returns the portal's WSGI app. :meth:`unmount` undoes it."""
        self._mounted_at = base_url
        self.webhooks = WebhookDispatcher(portal_id=self.portal.portal_id,
                                          app_id=self.credentials.app_id,
                                          client_secret=self.credentials.client_secret,
                                          retry_delays=self._webhook_retry_delays)
        self.app = create_app(self)
        return self.app

    def unmount(self) -> None:
        """Stop delivering webhooks; the portal no longer serves."""
        if self.webhooks is not None:
            self.webhooks.stop()
            self.webhooks = None
        self._mounted_at = None

    @property
    def url(self) -> str:
        """Where the API and the ``/__sandbox__/`` controls are served."""
        return self.base_url

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        # Looked up per request: mount() makes a new app each time the sandbox is mounted.
        return self.app(environ, start_response)

    def _serving(self, base_url: str) -> None:
        self.mount(base_url)

    def _stopped(self) -> None:
        self.unmount()

    def info(self) -> dict[str, Any]:
        """Where and how to connect: base_url, OAuth tokens (with their expiry), a private-app
        token that never expires, portal and app credentials."""
        return {"base_url": self.base_url, "access_token": self._tokens["access_token"],
                "refresh_token": self._tokens["refresh_token"],
                "expires_at": self._tokens_expire_at,
                "private_app_token": self.credentials.private_app_token,
                "portal_id": self.portal.portal_id, "account_id": str(self.portal.portal_id),
                "client_id": self.credentials.client_id,
                "client_secret": self.credentials.client_secret,
                "oauth_app": {"client_id": self.credentials.client_id,
                              "client_secret": self.credentials.client_secret,
                              "base_url": self.base_url, "authorize_url": self.base_url}}

    def __repr__(self) -> str:
        where = self._mounted_at or "not started"
        return f"HubSpotSandbox(portal_id={self.portal.portal_id}, {where})"
