"""The shared ``/__sandbox__/`` control API (see ``connectors.sandbox_control``) for this sandbox:
429/503 shares, latency, scripted failures, call counters, a rep's move, webhook subscriptions."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Mapping

from .schema import OBJECT_TYPES

if TYPE_CHECKING:
    from .server import HubSpotSandbox

#: What the service subscribes to by default: stage moves and amount changes, not our own fields.
DEFAULT_PROPERTY_NAMES = ("dealstage", "lifecyclestage", "amount")


class HubSpotLevers:
    """The control levers of one HubSpot sandbox."""

    def __init__(self, sandbox: HubSpotSandbox, counts_lock: threading.Lock) -> None:
        self.sandbox = sandbox
        self.counts_lock = counts_lock

    def info(self) -> dict[str, Any]:
        """The sandbox's URLs, tokens and app credentials."""
        return self.sandbox.info()

    def set_faults(self, latency_ms: float | None, error_share: float | None,
                   extra: Mapping[str, Any]) -> dict[str, Any]:
        """Latency and a failing share (429 and 503 in equal parts), and the HubSpot extras:
        ``rate_429``/``rate_503`` shares, ``fail_next`` (statuses for the next calls) and
        ``record_errors`` (``[{objectType, id, category?, message?}]`` refused in batch writes)
        and ``index_lag_seconds`` (how long search takes to find a change)."""
        sandbox, portal = self.sandbox, self.sandbox.portal
        unknown = sorted(set(extra) - {"rate_429", "rate_503", "fail_next", "record_errors",
                                      "index_lag_seconds"})
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}")
        if latency_ms is not None:
            sandbox.latency_ms = latency_ms
        if error_share is not None:
            sandbox.fault_429 = sandbox.fault_503 = error_share / 2
        for key, attribute in (("rate_429", "fault_429"), ("rate_503", "fault_503")):
            if key in extra:
                share = float(extra[key])
                if not 0 <= share <= 1:
                    raise ValueError(f"{key} must be between 0 and 1")
                setattr(sandbox, attribute, share)
        if "fail_next" in extra:
            sandbox.fail_next = [int(status) for status in extra["fail_next"] or ()]
        if "index_lag_seconds" in extra:
            lag = float(extra["index_lag_seconds"])
            if not 0 <= lag <= 3600:
                raise ValueError("index_lag_seconds must be between 0 and 3600")
            with portal.lock:
                portal.index_lag = lag
        if "record_errors" in extra:
            try:
                failures = {(OBJECT_TYPES[e.get("objectType", "deals")].name, str(e["id"])):
                            (e.get("category", "VALIDATION_ERROR"), e.get("message", "Injected failure"))
                            for e in extra["record_errors"] or ()}
            except (KeyError, TypeError, AttributeError):
                raise ValueError("record_errors must be a list of {objectType, id, category?, "
                                 "message?}") from None
            with portal.lock:
                portal.record_failures = failures
        return {"latency_ms": sandbox.latency_ms, "rate_429": sandbox.fault_429,
                "rate_503": sandbox.fault_503, "fail_next": sandbox.fail_next,
                "record_errors": len(portal.record_failures), "index_lag_seconds": portal.index_lag}

    def counters(self) -> dict[str, Any]:
        """Calls counted, in total and by route."""
        with self.counts_lock:
            return {"calls": self.sandbox.calls_total, "by_route": dict(self.sandbox.calls)}

    def reset_counters(self) -> None:
        """Forget the call counts."""
        with self.counts_lock:
            self.sandbox.calls.clear()
            self.sandbox.calls_total = 0

    def move(self, object: str, id: str, stage: str, extra: Mapping[str, Any]) -> dict[str, Any]:
        """A rep moves a deal (``dealstage``) or contact (``lifecyclestage``) in the CRM's UI;
        ``properties`` may set other properties in the same edit."""
        object_type = OBJECT_TYPES.get(object)
        if object_type is None or object != object_type.singular:
            raise ValueError(f"unknown object {object!r}; known: "
                             f"{', '.join(sorted({t.singular for t in OBJECT_TYPES.values()}))}")
        others = extra.get("properties") or {}
        if set(extra) - {"properties"} or not isinstance(others, dict):
            raise ValueError("move takes object, id, stage and optionally properties (an object)")
        results, failures = self.sandbox.portal.update(
            object_type.name, [(id, {**others, object_type.stage_property: stage})],
            source="CRM_UI", source_id="userId:7654321")
        if failures:
            raise ValueError(f"no {object} {id} (or a refused value): {failures[0].message}")
        return results[0]

    def subscribe(self, url: str, extra: Mapping[str, Any]) -> dict[str, Any]:
        """Webhook subscriptions to ``url``: ``subscriptions`` (default every object's
        ``propertyChange``) on ``propertyNames`` (default stage and amount), sent in ``format``
        (``legacy``, the default, or ``generic``, the 2026 platform's)."""
        unknown = sorted(set(extra) - {"subscriptions", "propertyNames", "format"})
        if unknown:
            raise ValueError(f"unknown notification setting(s): {', '.join(unknown)}")
        allowed = sorted({f"{t.singular}.propertyChange" for t in OBJECT_TYPES.values()})
        subscriptions = extra.get("subscriptions") or allowed
        if not isinstance(subscriptions, list) or [s for s in subscriptions if s not in allowed]:
            raise ValueError(f"subscriptions must be a list drawn from {allowed}")
        names = extra.get("propertyNames", list(DEFAULT_PROPERTY_NAMES))
        created = self.sandbox.webhooks.register(url, subscriptions, names,
                                                 extra.get("format", "legacy"))
        return {"subscriptions": created}

    def notifications(self) -> dict[str, Any]:
        """Webhook deliveries made (each a batch of events, with its attempt and answer)."""
        return {"deliveries": list(self.sandbox.webhooks.deliveries)}

    def expire_tokens(self) -> int:
        """Every issued access token expires now."""
        return self.sandbox.credentials.expire()
