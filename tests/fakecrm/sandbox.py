"""The fake CRM's sandbox: a small JSON API over real HTTP, plus the shared control API.

Tickets move through statuses; the API pages with a cursor, writes at most ``BATCH_LIMIT`` tickets
a call, refuses expired tokens with 401 ``expired_token`` and signs its webhooks with HMAC-SHA256.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
import threading
import time
from datetime import datetime, timezone
from typing import Any, Mapping

import requests
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from connectors.sandbox_control import register_controls

BATCH_LIMIT = 3
PAGE_LIMIT = 2
STATUSES = [("new", "New", False), ("open", "Open", False), ("pending", "Pending", False),
            ("solved", "Solved", True), ("dropped", "Dropped", True)]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def sign(secret: str, text: bytes) -> str:
    """The fake CRM's signature: hex HMAC-SHA256 of ``text`` with the app's webhook secret."""
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


class FakeSandbox:
    """A running fake CRM account holding ``seed`` (``{"account_id", "tickets": [...]}``)."""

    def __init__(self, seed: Mapping[str, Any] | None = None, *, port: int = 0) -> None:
        seed = dict(seed or {})
        self.account_id = str(seed.get("account_id", "acct-1"))
        self.tickets = {t["id"]: {"journey": {}, "history": [], **t} for t in seed.get("tickets", [])}
        self.fields: set[str] = set()
        self.tokens = {secrets.token_hex(8)}
        self.refresh_token = secrets.token_hex(8)
        self.webhook_secret = secrets.token_hex(16)
        self.calls: dict[str, int] = {}
        self.latency_ms = 0.0
        self.error_share = 0.0
        self.subscriber: str | None = None
        self.deliveries: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._server = make_server("127.0.0.1", port, self._app(), threaded=True)
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> "FakeSandbox":
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def info(self) -> dict[str, Any]:
        return {"base_url": self.url, "api_token": sorted(self.tokens)[0],
                "refresh_token": self.refresh_token, "webhook_secret": self.webhook_secret,
                "account_id": self.account_id}

    # ------------------------------------------------------------------------------------ API
    def _app(self) -> Flask:
        app = Flask("fakecrm")

        @app.before_request
        def gate() -> Any:
            if request.path.startswith("/__sandbox__/"):
                return None
            with self.lock:
                route = f"{request.method} {request.url_rule.rule if request.url_rule else request.path}"
                self.calls[route] = self.calls.get(route, 0) + 1
            time.sleep(self.latency_ms / 1000)
            if request.path == "/api/token":
                return None
            if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
                return jsonify({"error": "expired_token"}), 401
            if random.random() < self.error_share:
                return jsonify({"error": "unavailable"}), 503
            return None

        @app.post("/api/token")
        def token() -> Any:
            if (request.get_json(silent=True) or {}).get("refresh_token") != self.refresh_token:
                return jsonify({"error": "invalid_grant"}), 400
            fresh = secrets.token_hex(8)
            self.tokens.add(fresh)
            return jsonify({"access_token": fresh})

        @app.get("/api/account")
        def account() -> Any:
            return jsonify({"id": self.account_id, "name": f"Fake account {self.account_id}"})

        @app.get("/api/statuses")
        def statuses() -> Any:
            return jsonify([{"value": v, "label": label, "order": i, "closed": closed}
                            for i, (v, label, closed) in enumerate(STATUSES)])

        @app.get("/api/tickets")
        def tickets() -> Any:
            with self.lock:
                rows = sorted(self.tickets.values(), key=lambda t: t["id"])
            if request.args.get("ids"):
                wanted = set(request.args["ids"].split(","))
                rows = [t for t in rows if t["id"] in wanted]
            if request.args.get("since"):
                rows = [t for t in rows if t["updatedAt"] >= request.args["since"]]
            start = int(request.args.get("cursor") or 0)
            page = rows[start:start + PAGE_LIMIT]
            more = start + PAGE_LIMIT < len(rows)
            return jsonify({"items": page, "next": str(start + PAGE_LIMIT) if more else None})

        @app.post("/api/fields")
        def create_field() -> Any:
            name = (request.get_json(silent=True) or {}).get("name")
            if name in self.fields:
                return jsonify({"error": "exists"}), 409
            self.fields.add(name)
            return jsonify({"name": name}), 201

        @app.patch("/api/tickets/batch")
        def write() -> Any:
            updates = (request.get_json(silent=True) or {}).get("updates") or []
            if len(updates) > BATCH_LIMIT:
                return jsonify({"error": "too_many"}), 400
            results = []
            with self.lock:
                for update in updates:
                    ticket = self.tickets.get(update["id"])
                    unknown = set(update["fields"]) - self.fields
                    if ticket is None or unknown:
                        results.append({"id": update["id"], "ok": False,
                                        "error": "not_found" if ticket is None else "unknown_field"})
                        continue
                    ticket["journey"].update(update["fields"])
                    ticket["updatedAt"] = _now()
                    results.append({"id": update["id"], "ok": True})
            return jsonify({"results": results})

        register_controls(app, FakeLevers(self))
        return app

    def notify(self, ticket_id: str) -> None:
        """Send the subscriber a signed webhook for a change of ``ticket_id``."""
        if self.subscriber is None:
            return
        body = json.dumps({"account": self.account_id,
                           "events": [{"deliveryId": secrets.token_hex(6), "ticket": ticket_id}]}).encode()
        answer = requests.post(self.subscriber, data=body, timeout=10,
                               headers={"Content-Type": "application/json",
                                        "X-Fake-Signature": sign(self.webhook_secret, body)})
        self.deliveries.append({"body": json.loads(body), "status": answer.status_code})


class FakeLevers:
    """The shared control API over a :class:`FakeSandbox`."""

    def __init__(self, sandbox: FakeSandbox) -> None:
        self.sandbox = sandbox

    def info(self) -> dict[str, Any]:
        return self.sandbox.info()

    def set_faults(self, latency_ms, error_share, extra) -> dict[str, Any]:
        if extra:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(extra))}")
        if latency_ms is not None:
            self.sandbox.latency_ms = latency_ms
        if error_share is not None:
            self.sandbox.error_share = error_share
        return {"latency_ms": self.sandbox.latency_ms, "error_share": self.sandbox.error_share}

    def counters(self) -> dict[str, Any]:
        return {"calls": sum(self.sandbox.calls.values()), "by_route": dict(self.sandbox.calls)}

    def reset_counters(self) -> None:
        self.sandbox.calls.clear()

    def move(self, object, id, stage, extra) -> dict[str, Any]:
        if object != "ticket" or id not in self.sandbox.tickets:
            raise ValueError(f"no {object} {id}")
        with self.sandbox.lock:
            ticket = self.sandbox.tickets[id]
            ticket["status"], ticket["updatedAt"] = stage, _now()
            ticket["history"].append({"status": stage, "at": ticket["updatedAt"]})
        self.sandbox.notify(id)
        return ticket

    def subscribe(self, url, extra) -> dict[str, Any]:
        self.sandbox.subscriber = url
        return {"url": url}

    def notifications(self) -> dict[str, Any]:
        return {"deliveries": list(self.sandbox.deliveries)}

    def expire_tokens(self) -> int:
        expired = len(self.sandbox.tokens)
        self.sandbox.tokens = {secrets.token_hex(8)}
        return expired
