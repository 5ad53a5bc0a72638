"""Sign-in throttling: failed attempts are counted per account (the e-mail) and per client address
in moving windows (the ``limits`` library); past a handful the form answers 429 with Retry-After.

The counters live where ``JOURNEY_RATE_LIMIT_STORAGE`` says: ``memory://`` (one process) by
default, ``redis://host:port`` to share them between web workers and machines.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

#: Failed sign-ins allowed for one e-mail address, from any number of client addresses.
PER_ACCOUNT = parse("5/15minutes")
#: Failed sign-ins allowed from one client address, over any number of accounts.
PER_ADDRESS = parse("20/15minutes")


@dataclass
class SignInThrottle:
    """Counts failed sign-ins and says how long a caller must wait."""

    limiter: MovingWindowRateLimiter

    @classmethod
    def from_uri(cls, storage_uri: str) -> "SignInThrottle":
        """A throttle keeping its counters in ``storage_uri`` (``memory://``, ``redis://...``)."""
        return cls(MovingWindowRateLimiter(storage_from_string(storage_uri)))

    def _keys(self, account: str, address: str) -> list[tuple[RateLimitItem, str]]:
        """The counters an attempt touches; an admin-token attempt names no account."""
        keys = [(PER_ADDRESS, f"signin:address:{address}")]
        if account.strip():
            keys.append((PER_ACCOUNT, f"signin:account:{account.strip().lower()}"))
        return keys

    def retry_after(self, account: str, address: str) -> int | None:
        """Seconds to wait before the next attempt, or None when one is allowed now."""
        waits = [self.limiter.get_window_stats(item, key).reset_time - time.time()
                 for item, key in self._keys(account, address) if not self.limiter.test(item, key)]
        return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, account: str, address: str) -> None:
        """Count one failed attempt against the account and the address."""
        for item, key in self._keys(account, address):
            self.limiter.hit(item, key)
