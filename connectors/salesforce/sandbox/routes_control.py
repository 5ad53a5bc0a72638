"""The shared ``/__sandbox__/`` control API (see ``connectors.sandbox_control``) for this sandbox:
faults (503s, latency, record locks, quota use), counters, a rep's stage move, outbound messages."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from flask import Flask

from connectors.salesforce.sandbox.http_common import Sandbox
from connectors.salesforce.sandbox.ids import to18
from connectors.salesforce.sandbox.values import to_json
from connectors.sandbox_control import register_controls

#: Objects a rep can move, and the field holding their stage.
MOVABLE = {"opportunity": "StageName"}


class SalesforceLevers:
    """The control levers of one Salesforce sandbox."""

    def __init__(self, sandbox: Sandbox, info: Callable[[], dict[str, Any]]) -> None:
        self.sandbox = sandbox
        self.info = info

    def set_faults(self, latency_ms: float | None, error_share: float | None,
                   extra: Mapping[str, Any]) -> dict[str, Any]:
        """Latency, the 503 share, and the Salesforce extras: ``daily_quota``, ``api_used``,
        ``lock_ids`` (records answering UNABLE_TO_LOCK_ROW), ``lock_times``, ``slow_objects``
        (sObjects whose queries answer QUERY_TIMEOUT), ``slow_times`` and ``locator_idle_seconds``
        (how long a query locator lives unused; Salesforce's 15 minutes by default)."""
        faults, org = self.sandbox.faults, self.sandbox.org
        levers = ("lock_ids", "lock_times", "slow_objects", "slow_times", "locator_idle_seconds")
        changes = {k: v for k, v in extra.items() if k not in levers}
        if latency_ms is not None:
            changes["latency_ms"] = latency_ms
        if error_share is not None:
            changes["error_503_share"] = error_share
        try:
            faults.update(changes)
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        if "locator_idle_seconds" in extra:
            idle = extra["locator_idle_seconds"]
            if isinstance(idle, bool) or not isinstance(idle, (int, float)) or idle < 0:
                raise ValueError("locator_idle_seconds must be a number of seconds, 0 or more")
            self.sandbox.engine.idle_seconds = float(idle)
        if "slow_objects" in extra:
            times = extra.get("slow_times")
            with org.lock:
                self.sandbox.engine.slow_objects = {str(name): None if times is None else int(times)
                                                    for name in extra["slow_objects"] or ()}
        if "lock_ids" in extra:
            times = extra.get("lock_times")
            with org.lock:
                org.locked_ids = {to18(str(i)): None if times is None else int(times)
                                  for i in extra["lock_ids"] or ()}
        return {**faults.snapshot(), "lock_ids": sorted(org.locked_ids)}

    def counters(self) -> dict[str, Any]:
        """Calls by route, the org's API usage, and updates applied per record."""
        with self.sandbox.org.lock:
            updates = dict(self.sandbox.org.update_counts)
        return {**self.sandbox.faults.snapshot(), "record_updates": updates}

    def reset_counters(self) -> None:
        """Forget the per-route counts (the quota usage stays, as the org's would)."""
        self.sandbox.faults.reset_counters()

    def move(self, object: str, id: str, stage: str, extra: Mapping[str, Any]) -> dict[str, Any]:
        """A rep changes an opportunity's stage: history, stamps and an outbound message."""
        if object not in MOVABLE or extra:
            raise ValueError(f"move takes object ({', '.join(MOVABLE)}), id and stage")
        org = self.sandbox.org
        with org.lock:
            record = org.move(id, stage)
            return {"Id": record["Id"], "StageName": record["StageName"],
                    "SystemModstamp": to_json("datetime", record["SystemModstamp"])}

    def subscribe(self, url: str, extra: Mapping[str, Any]) -> dict[str, Any]:
        """An outbound message on opportunity stage changes, sent to ``url``."""
        if extra:
            raise ValueError(f"unknown notification setting(s): {', '.join(sorted(extra))}")
        self.sandbox.outbound.register(url)
        return {"url": url, "sends": "outbound messages on Opportunity stage changes"}

    def notifications(self) -> dict[str, Any]:
        """Outbound messages delivered, failed attempts, and messages pending."""
        return self.sandbox.outbound.snapshot()

    def expire_tokens(self) -> int:
        """Every issued session ends now."""
        return self.sandbox.tokens.expire_all()


def register(app: Flask, sandbox: Sandbox, info: Callable[[], dict[str, Any]]) -> None:
    """Add the control routes to ``app``."""
    register_controls(app, SalesforceLevers(sandbox, info))
