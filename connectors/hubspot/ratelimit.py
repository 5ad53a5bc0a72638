"""Client-side rate budgets that keep a process inside a HubSpot portal's limits.

HubSpot counts requests per installed portal: about 110 per rolling 10 seconds, and search
requests separately at about 5 per second. Every connector of one portal in one process shares
one :class:`RateBudget`, so together they never provoke a 429 in normal running.
"""
from __future__ import annotations

from typing import Callable

from connectors.ratelimit import RateWindow, SlidingWindow

#: Makes one of a budget's windows: (name, limit, window_seconds, margin_seconds) -> window.
WindowFactory = Callable[[str, int, float, float], RateWindow]


def local_window(name: str, limit: int, window_seconds: float, margin_seconds: float) -> RateWindow:
    """An in-process window (the default when nothing shares budgets across processes)."""
    return SlidingWindow(limit, window_seconds, margin_seconds=margin_seconds)


class RateBudget:
    """One portal's request budget: the rolling general limit plus the search endpoints' own limit.

    Create one per portal and pass it to every connector of that portal in the process;
    ``make_window`` builds its two windows (``general`` and ``search``), in-process by default, or
    shared by every process of the service (see ``SharedResources.rate_window``).
    """

    def __init__(self, limit: int = 110, window_seconds: float = 10.0, *,
                 search_per_second: int = 5, margin_seconds: float = 0.25,
                 make_window: WindowFactory = local_window) -> None:
        self.general = make_window("general", limit, window_seconds, margin_seconds)
        self.search = make_window("search", search_per_second, 1.0, margin_seconds)

    def acquire(self, *, search: bool = False) -> None:
        """Block until the request may go out (search requests take a slot of both limits)."""
        if search:
            self.search.acquire()
        self.general.acquire()

    def hold(self, seconds: float, *, search: bool = False) -> None:
        """Pause every connector sharing this budget after HubSpot answered 429."""
        (self.search if search else self.general).hold(seconds)
