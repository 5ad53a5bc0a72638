"""Injected faults and call counters of a running sandbox (read and set under ``/__sandbox__/``)."""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Faults:
    """What the sandbox does to requests besides answering them, and what it has counted."""

    latency_ms: float = 0.0
    error_503_share: float = 0.0
    daily_quota: int = 100_000
    api_used: int = 0
    random_seed: int | None = None
    by_route: dict[str, int] = field(default_factory=dict)
    #: Subrequests of composite calls by route: run, but not calls of their own.
    subrequests: dict[str, int] = field(default_factory=dict)
    _rng: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng.seed(self.random_seed)

    def count(self, route: str) -> None:
        """Count one request to ``route`` (``GET query/``...)."""
        with self._lock:
            self.by_route[route] = self.by_route.get(route, 0) + 1

    def count_subrequest(self, route: str) -> None:
        """Count one composite subrequest to ``route`` (it spends no call of its own)."""
        with self._lock:
            self.subrequests[route] = self.subrequests.get(route, 0) + 1

    def spend(self) -> bool:
        """Spend one call of the daily quota; False (nothing spent) when it is used up."""
        with self._lock:
            if self.api_used >= self.daily_quota:
                return False
            self.api_used += 1
            return True

    def draw_503(self) -> bool:
        """Whether this request gets an injected 503."""
        with self._lock:
            return self.error_503_share > 0 and self._rng.random() < self.error_503_share

    def update(self, changes: dict[str, Any]) -> None:
        """Apply ``changes`` from ``POST /__sandbox__/faults`` (unknown keys are refused)."""
        allowed = {"latency_ms": float, "error_503_share": float, "daily_quota": int, "api_used": int}
        # set on the org and its query engine
        levers = {"lock_ids", "lock_times", "slow_objects", "slow_times", "locator_idle_seconds"}
        unknown = sorted(set(changes) - allowed.keys() - levers)
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}; known: "
                             f"{', '.join(sorted([*allowed, *levers]))}")
        converted = {key: kind(changes[key]) for key, kind in allowed.items() if key in changes}
        if not 0 <= converted.get("error_503_share", 0) <= 1:
            raise ValueError("error_503_share must be between 0 and 1")
        with self._lock:
            for key, value in converted.items():
                setattr(self, key, value)

    def reset_counters(self) -> None:
        """Forget the per-route counts (the quota usage stays, as the org's would)."""
        with self._lock:
            self.by_route.clear()
            self.subrequests.clear()

    def snapshot(self) -> dict[str, Any]:
        """Counters and settings as JSON."""
        with self._lock:
            return {"calls": sum(self.by_route.values()), "by_route": dict(self.by_route),
                    "subrequests": dict(self.subrequests),
                    "api_usage": {"used": self.api_used, "limit": self.daily_quota},
                    "latency_ms": self.latency_ms, "error_503_share": self.error_503_share}
