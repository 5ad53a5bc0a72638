"""Client-side request windows that keep a process inside a CRM account's rate limits.

:class:`RateWindow` is what a connector needs of a window; :class:`SlidingWindow` is the
in-process one. The service may hand connectors other implementations through
:meth:`connectors.plugin.SharedResources.rate_window` (one shared by every worker process).
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Protocol


class RateWindow(Protocol):
    """At most a number of requests in any rolling span of time."""

    def try_acquire(self) -> float:
        """Take a slot if one is free and return 0; otherwise return the seconds until one frees."""

    def acquire(self) -> None:
        """Block until a slot is free, then take it."""

    def hold(self, seconds: float) -> None:
        """Refuse every slot for ``seconds`` (the server said we are over its limit)."""

    def in_window(self) -> int:
        """How many slots the current window holds."""


class SlidingWindow:
    """At most ``limit`` acquisitions in any rolling ``window_seconds``; thread-safe.

    ``margin_seconds`` widens the window on our side: a request is stamped when we send it but
    counted when HubSpot receives it, so uneven network delays could otherwise squeeze one request
    too many into HubSpot's window.
    """

    def __init__(self, limit: int, window_seconds: float, *, margin_seconds: float = 0.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("a rate window needs limit >= 1 and window_seconds > 0")
        self.limit = limit
        self.window_seconds = window_seconds
        self._span = window_seconds + margin_seconds
        self._stamps: deque[float] = deque()
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._hold_until = 0.0

    def try_acquire(self) -> float:
        """Take a slot if one is free and return 0; otherwise return the seconds until one frees."""
        with self._lock:
            now = self._clock()
            if now < self._hold_until:
                return self._hold_until - now
            while self._stamps and self._stamps[0] <= now - self._span:
                self._stamps.popleft()
            if len(self._stamps) < self.limit:
                self._stamps.append(now)
                return 0.0
            return self._stamps[0] + self._span - now

    def acquire(self) -> None:
        """Block until a slot is free, then take it."""
        while (wait := self.try_acquire()) > 0:
            self._sleep(wait)

    def hold(self, seconds: float) -> None:
        """Refuse every slot for ``seconds`` (the server said we are over its limit)."""
        with self._lock:
            self._hold_until = max(self._hold_until, self._clock() + seconds)

    def in_window(self) -> int:
        """How many slots the current window holds."""
        with self._lock:
            now = self._clock()
            return sum(1 for stamp in self._stamps if stamp > now - self._span)
