"""Helpers for the HubSpot tests: connector settings, raw HTTP access, a webhook receiver."""
from __future__ import annotations

import threading
from typing import Any, Iterator

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from connectors.hubspot import HubSpotConnector, RateBudget
from connectors.hubspot.sandbox import HubSpotSandbox


def settings_for(sandbox: HubSpotSandbox, *, oauth: bool = False, **extra: Any) -> dict[str, Any]:
    """Connector settings for ``sandbox``: the private-app token, or the OAuth token set."""
    info = sandbox.info()
    settings: dict[str, Any] = {"base_url": info["base_url"]}
    if oauth:
        settings.update(access_token=info["access_token"], refresh_token=info["refresh_token"],
                        client_id=info["client_id"], client_secret=info["client_secret"])
    else:
        settings["access_token"] = info["private_app_token"]
    settings.update(extra)
    return settings


def connector_for(sandbox: HubSpotSandbox, *, budget: RateBudget | None = None,
                  **settings: Any) -> HubSpotConnector:
    """A connector on ``sandbox`` with a budget matching the sandbox's limits."""
    return HubSpotConnector(settings_for(sandbox, **settings), rate_budget=budget or RateBudget(
        sandbox.rate.limit, sandbox.rate.window_seconds,
        search_per_second=sandbox.search_rate.limit))


class Api:
    """Raw HTTP to a sandbox, for checking wire shapes the client library would hide."""

    def __init__(self, sandbox: HubSpotSandbox, token: str | None = None) -> None:
        self.base = sandbox.base_url
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {token or sandbox.info()['private_app_token']}"

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.session.get(self.base + path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.session.post(self.base + path, json=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.session.patch(self.base + path, json=body, **kw)

    def control(self, name: str, body: Any = None) -> requests.Response:
        return self.session.post(f"{self.base}/__sandbox__/{name}", json=body or {})


class WebhookReceiver:
    """A local HTTP endpoint that records webhook requests and answers with queued statuses."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.arrived = threading.Condition()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hubspot/webhook"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @Request.application
    def _app(self, request: Request) -> Response:
        with self.arrived:
            status = self.statuses.pop(0) if self.statuses else 204
            self.requests.append({"method": request.method, "url": request.url,
                                  "body": request.get_data(), "headers": dict(request.headers),
                                  "status": status})
            self.arrived.notify_all()
        return Response(status=status)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    target = WebhookReceiver()
    yield target
    target.stop()
