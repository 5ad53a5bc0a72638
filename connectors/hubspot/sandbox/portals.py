"""``HubSpotPortals``: many separate HubSpot portals served from one process and one port.

Each portal is a full :class:`HubSpotSandbox` (its own copy of the seed, portal id, access and
private-app tokens, app client id and secret, rate limits, counters, faults and webhooks); one
HTTP server hands every request to the portal its credentials belong to, as HubSpot's edge does:

- a bearer token goes to the portal that issued it;
- ``/oauth/v1/token`` and ``/oauth/authorize`` go to the portal of the ``client_id``;
- ``/oauth/v1/access-tokens/{token}`` goes to the portal of ``{token}``;
- ``/__sandbox__/...?portal=<id>`` controls one portal; without ``portal`` the controls act on the
  first portal, except ``GET /__sandbox__/counters`` (every portal's calls added up, plus
  ``{"portals": {"<id>": {"calls": n, "rate_limited": k}}}``) and
  ``POST /__sandbox__/counters/reset`` (all portals).

A request no portal recognises goes to the first portal, which answers it as HubSpot would (401).
"""
from __future__ import annotations

import io
import json
import threading
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs


from connectors.seedfile import SeedError

from .seed import parse_seed
from .server import HubSpotSandbox, ServedInBackground

MAX_PORTALS = 10_000
_TOKEN_FORM_LIMIT = 64 * 1024


class HubSpotPortals(ServedInBackground):
    """``portals`` sandboxes with portal ids ``seed.portal_id``, ``seed.portal_id + 1``, ...

    ``options`` are :class:`HubSpotSandbox`'s (rate limits, latency, stage dates...) and apply to
    every portal; each keeps its own windows and counters.
    """

    _thread_name = "hubspot-portals"

    def __init__(self, seed: dict[str, Any] | None = None, *, portals: int = 1,
                 host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        if not 1 <= portals <= MAX_PORTALS:
            raise SeedError(f"portals: must be between 1 and {MAX_PORTALS}, got {portals}")
        first_id = parse_seed(seed).portal_id
        self.host = host
        self.port = port
        self.sandboxes = [HubSpotSandbox({**(seed or {}), "portal_id": first_id + n}, **options)
                          for n in range(portals)]
        self.by_portal = {box.portal.portal_id: box for box in self.sandboxes}
        self.rate_limited = {box.portal.portal_id: 0 for box in self.sandboxes}
        self._by_token: dict[str, HubSpotSandbox] = {}
        self._by_client = {box.credentials.client_id: box for box in self.sandboxes}
        self._lock = threading.Lock()

    # -------------------------------------------------------------------------------- serving
    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self(environ, start_response)

    def _serving(self, base_url: str) -> None:
        for box in self.sandboxes:
            box.mount(base_url)

    def _stopped(self) -> None:
        for box in self.sandboxes:
            box.unmount()

    def info(self) -> dict[str, Any]:
        """The first portal's connection details (what a one-portal sandbox prints)."""
        return self.sandboxes[0].info()

    def infos(self) -> list[dict[str, Any]]:
        """Every portal's connection details, in portal id order."""
        return [box.info() for box in self.sandboxes]

    def calls(self) -> dict[str, Any]:
        """Calls of every portal added up by route, and each portal's total and 429s answered."""
        by_route: dict[str, int] = {}
        for box in self.sandboxes:
            for route, count in list(box.calls.items()):
                by_route[route] = by_route.get(route, 0) + count
        with self._lock:
            limited = dict(self.rate_limited)
        return {"calls": sum(box.calls_total for box in self.sandboxes), "by_route": by_route,
                "portals": {str(pid): {"calls": box.calls_total, "rate_limited": limited[pid]}
                            for pid, box in self.by_portal.items()}}

    def reset_calls(self) -> None:
        """Zero every portal's counters."""
        with self._lock:
            for box in self.sandboxes:
                box.calls.clear()
                box.calls_total = 0
            self.rate_limited = dict.fromkeys(self.rate_limited, 0)

    # ------------------------------------------------------------------------------- routing
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if path.startswith("/__sandbox__/") and "portal" not in query:
            if path == "/__sandbox__/counters" and environ["REQUEST_METHOD"] == "GET":
                return self._json(start_response, self.calls())
            if path == "/__sandbox__/counters/reset" and environ["REQUEST_METHOD"] == "POST":
                self.reset_calls()
                return self._json(start_response, self.calls())
        box = self._portal_for(environ, path, query) or self.sandboxes[0]
        portal_id = box.portal.portal_id

        def counting_start_response(status: str, headers: Any, *args: Any) -> Any:
            if status.startswith("429"):
                with self._lock:
                    self.rate_limited[portal_id] += 1
            return start_response(status, headers, *args)

        return box.app(environ, counting_start_response)

    def _portal_for(self, environ: dict[str, Any], path: str,
                    query: dict[str, list[str]]) -> HubSpotSandbox | None:
        if path.startswith("/__sandbox__/"):
            try:
                return self.by_portal.get(int(query["portal"][0]))
            except ValueError:
                return None
        if path == "/oauth/authorize":
            return self._by_client.get((query.get("client_id") or [""])[0])
        if path == "/oauth/v1/token":
            return self._by_client.get(self._form_value(environ, "client_id"))
        if path.startswith("/oauth/v1/access-tokens/"):
            return self._issuer(path.rsplit("/", 1)[-1])
        auth = environ.get("HTTP_AUTHORIZATION", "")
        return self._issuer(auth.removeprefix("Bearer ").strip()) if auth else None

    def _issuer(self, token: str) -> HubSpotSandbox | None:
        """The portal that issued ``token`` (remembered once found)."""
        with self._lock:
            found = self._by_token.get(token)
        if found is None:
            found = next((box for box in self.sandboxes if box.credentials.knows(token)), None)
            if found is not None:
                with self._lock:
                    self._by_token[token] = found
        return found

    @staticmethod
    def _form_value(environ: dict[str, Any], name: str) -> str:
        """A field of a form-encoded body, leaving the body readable for the portal's app."""
        try:
            length = min(int(environ.get("CONTENT_LENGTH") or 0), _TOKEN_FORM_LIMIT)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        values = parse_qs(body.decode("utf-8", "replace")).get(name) or [""]
        return values[0]

    @staticmethod
    def _json(start_response: Callable[..., Any], body: dict[str, Any]) -> list[bytes]:
        data = json.dumps(body).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(data)))])
        return [data]
