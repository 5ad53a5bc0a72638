"""Webhook delivery as HubSpot does it: batches of events, signature v3, retries on failure.

A subscription sends events in one of two formats: ``legacy`` (``deal.propertyChange``) or
``generic``, the format of HubSpot's 2026 developer platform (``object.propertyChange`` with the
object named by ``objectTypeId``, ``0-3`` for deals and ``0-1`` for contacts).
"""
from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from .store import Change

#: Seconds between retries. HubSpot retries a failed delivery up to 10 times spread over the next
#: 24 hours; the sandbox keeps the count and the growth but scales the delays down so a test can
#: watch the retries.
DEFAULT_RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0)
MAX_EVENTS_PER_REQUEST = 100
DELIVERY_TIMEOUT_SECONDS = 5.0
#: Event formats a subscription can send in.
FORMATS = ("legacy", "generic")
GENERIC_PROPERTY_CHANGE = "object.propertyChange"


def _seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp_ms: int) -> str:
    """``X-HubSpot-Signature-v3``: base64 HMAC-SHA256 over method, URI, body and timestamp."""
    source = method.encode() + uri.encode() + body + str(timestamp_ms).encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


@dataclass
class Subscription:
    id: int
    target_url: str
    subscription_type: str  # "deal.propertyChange"
    property_names: frozenset[str]  # empty: every property
    format: str = "legacy"

    def event(self, change: Change, event_id: int, portal_id: int, app_id: int) -> dict[str, Any]:
        """The event this subscription sends for ``change``, in its format."""
        event: dict[str, Any] = {
            "eventId": event_id, "subscriptionId": self.id, "portalId": portal_id, "appId": app_id,
            "occurredAt": int(change.occurred_at.timestamp() * 1000),
            "subscriptionType": self.subscription_type, "attemptNumber": 0,
            "objectId": int(change.object_id)}
        if self.format == "generic":
            event["subscriptionType"] = GENERIC_PROPERTY_CHANGE
            event["objectTypeId"] = change.object_type.type_id
        event.update({"propertyName": change.property_name, "propertyValue": change.value,
                      "changeSource": change.source,
                      "sourceId": f"{app_id}" if change.source == "INTEGRATION" else None})
        return event


@dataclass(order=True)
class _Pending:
    due: float
    seq: int
    target_url: str = field(compare=False)
    events: list[dict[str, Any]] = field(compare=False)
    attempt: int = field(compare=False, default=0)


class WebhookDispatcher:
    """Turns property changes into event batches and delivers them from a background thread."""

    def __init__(self, *, portal_id: int, app_id: int, client_secret: str,
                 retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS) -> None:
        self.portal_id = portal_id
        self.app_id = app_id
        self.client_secret = client_secret
        self.retry_delays = tuple(retry_delays)
        self.subscriptions: list[Subscription] = []
        self.deliveries: list[dict[str, Any]] = []
        self._event_ids = itertools.count(1)
        self._sub_ids = itertools.count(1)
        self._seq = itertools.count()
        self._queue: list[_Pending] = []
        self._cond = threading.Condition()
        self._stopped = False
        self._session = requests.Session()
        self._session.trust_env = False
        self._thread = threading.Thread(target=self._run, name="hubspot-sandbox-webhooks",
                                        daemon=True)
        self._thread.start()

    def register(self, target_url: str, subscription_types: list[str],
                 property_names: list[str] | None, event_format: str = "legacy"
                 ) -> list[dict[str, Any]]:
        """Subscribe ``target_url`` to ``deal.propertyChange``-style types, sending events in
        ``event_format`` (``legacy`` or ``generic``); returns the subscriptions."""
        if event_format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {event_format!r}")
        created = []
        with self._cond:
            for sub_type in subscription_types:
                sub = Subscription(next(self._sub_ids), target_url, sub_type,
                                   frozenset(property_names or ()), event_format)
                self.subscriptions.append(sub)
                created.append({"id": sub.id, "subscriptionType": sub_type,
                                "propertyNames": sorted(sub.property_names),
                                "format": event_format})
        return created

    def notify(self, changes: list[Change]) -> None:
        """Queue one event per change per matching subscription, batched per target URL."""
        by_target: dict[str, list[dict[str, Any]]] = {}
        with self._cond:
            for change in changes:
                for sub in self.subscriptions:
                    if sub.subscription_type != f"{change.object_type.singular}.propertyChange":
                        continue
                    if sub.property_names and change.property_name not in sub.property_names:
                        continue
                    by_target.setdefault(sub.target_url, []).append(
                        sub.event(change, next(self._event_ids), self.portal_id, self.app_id))
            for target, events in by_target.items():
                for start in range(0, len(events), MAX_EVENTS_PER_REQUEST):
                    batch = events[start:start + MAX_EVENTS_PER_REQUEST]
                    heapq.heappush(self._queue, _Pending(time.monotonic(), next(self._seq),
                                                         target, batch))
            self._cond.notify()

    def stop(self) -> None:
        """Stop delivering (pending retries are dropped)."""
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(timeout=DELIVERY_TIMEOUT_SECONDS + 1)
        self._session.close()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._queue or self._queue[0].due > time.monotonic()):
                    timeout = self._queue[0].due - time.monotonic() if self._queue else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                pending = heapq.heappop(self._queue)
            self._deliver(pending)

    def _deliver(self, pending: _Pending) -> None:
        events = [dict(e, attemptNumber=pending.attempt) for e in pending.events]
        body = json.dumps(events, separators=(",", ":")).encode()
        timestamp = int(time.time() * 1000)
        headers = {"Content-Type": "application/json",
                   "X-HubSpot-Signature-v3": sign_v3(self.client_secret, "POST", pending.target_url,
                                                     body, timestamp),
                   "X-HubSpot-Request-Timestamp": str(timestamp)}
        retry_after = 0.0
        try:
            response = self._session.post(pending.target_url, data=body, headers=headers,
                                          timeout=DELIVERY_TIMEOUT_SECONDS)
            status, error = response.status_code, None
            if status == 429:
                retry_after = _seconds(response.headers.get("Retry-After"))
        except requests.RequestException as exc:
            status, error = None, type(exc).__name__
        # HubSpot retries any 4xx or 5xx answer, a timeout or a failed connection (a 429 no
        # sooner than its Retry-After).
        failed = status is None or not 200 <= status < 300
        with self._cond:
            self.deliveries.append({"targetUrl": pending.target_url, "attempt": pending.attempt,
                                    "status": status, "error": error, "events": len(events)})
            if failed and pending.attempt < len(self.retry_delays):
                delay = max(self.retry_delays[pending.attempt], retry_after)
                pending.due = time.monotonic() + delay
                pending.attempt += 1
                pending.seq = next(self._seq)
                heapq.heappush(self._queue, pending)
            self._cond.notify()
