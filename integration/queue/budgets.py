"""Rate windows shared through Redis by every worker process and machine of the service.

Connectors ask :class:`RedisResources` (their ``SharedResources``) for a window per CRM account
(``hubspot:<portal>:general``...); every process asking for the same key shares one sorted set of
request stamps in Redis, so N workers together stay inside one account's limit.

Why not ``limits``: its windows are whole seconds, and HubSpot's search limit (5 a second, plus
the quarter second of margin our windows keep for network jitter) would have to round up to 2 s,
halving the search rate. The script below keeps the exact span and takes the time from the Redis
server, so workers on machines with drifting clocks still agree.
"""
from __future__ import annotations

import time
import uuid
from typing import Callable

import redis

from connectors.ratelimit import RateWindow
from integration.services import ProcessResources

# KEYS: stamps (sorted set), hold (string with a TTL). ARGV: limit, span seconds, member.
# Returns, as text (Lua numbers become integers on the way out), 0 when a slot was taken, else
# the seconds until one frees.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local held = redis.call('PTTL', KEYS[2])
if held > 0 then return tostring(held / 1000) end
local span = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(span * 1000))
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(math.max(tonumber(oldest[2]) + span - now, 0.001))
"""

_COUNT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
return redis.call('ZCOUNT', KEYS[1], '(' .. tostring(now - tonumber(ARGV[1])), '+inf')
"""


class RedisWindow:
    """At most ``limit`` acquisitions in any rolling ``window_seconds`` (+ margin) for every
    process using the same Redis and ``key``; a :class:`connectors.ratelimit.RateWindow`."""

    def __init__(self, client: redis.Redis, key: str, limit: int, window_seconds: float, *,
                 margin_seconds: float = 0.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("a rate window needs limit >= 1 and window_seconds > 0")
        self.limit = limit
        self.window_seconds = window_seconds
        self._span = window_seconds + margin_seconds
        self._keys = [f"{key}:stamps", f"{key}:hold"]
        self._client = client
        self._acquire = client.register_script(_ACQUIRE)
        self._count = client.register_script(_COUNT)
        self._sleep = sleep

    def try_acquire(self) -> float:
        """Take a slot if one is free and return 0; otherwise return the seconds until one frees."""
        return float(self._acquire(keys=self._keys, args=[self.limit, self._span, uuid.uuid4().hex]))

    def acquire(self) -> None:
        """Block until a slot is free, then take it."""
        while (wait := self.try_acquire()) > 0:
            self._sleep(wait)

    def hold(self, seconds: float) -> None:
        """Refuse every slot, in every process, for ``seconds`` (the CRM answered 429)."""
        if seconds > 0:
            self._client.set(self._keys[1], "1", px=max(1, int(seconds * 1000)))

    def in_window(self) -> int:
        """How many slots the current window holds."""
        return int(self._count(keys=self._keys[:1], args=[self._span]))


class RedisResources(ProcessResources):
    """The :class:`connectors.plugin.SharedResources` of a service running on the task queue.

    Objects from ``get`` live in this process (a connector's budget object), but the rate windows
    they are built from are kept in Redis under ``<prefix>:rate:<key>``.
    """

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__()
        self._client = redis.Redis.from_url(url)
        self._prefix = f"{prefix}:rate"

    def rate_window(self, key: str, limit: int, window_seconds: float,
                    margin_seconds: float = 0.0) -> RateWindow:
        """The window every process shares for ``key``."""
        return self.get(f"rate-window:{key}", lambda: RedisWindow(
            self._client, f"{self._prefix}:{key}", limit, window_seconds,
            margin_seconds=margin_seconds))
