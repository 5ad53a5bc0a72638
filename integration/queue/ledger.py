"""Which connections wait in the queue, per tenant, kept in Redis by the scheduler and the tasks.

The scheduler adds a connection when it queues its task; the task removes it as it starts. So a
connection is never queued twice, a tenant's waiting tasks can be counted (the fairness cap), and
a task whose worker dies mid-way is queued again on the next tick (its lease then passes on). An
entry whose message was lost (a broker restart) expires after ``stale_seconds``.
"""
from __future__ import annotations

import time

import redis


class QueueLedger:
    """Per-tenant sorted sets ``<prefix>:queued:<tenant>`` of connection ids, scored by when queued."""

    def __init__(self, client: redis.Redis, prefix: str, *, stale_seconds: float) -> None:
        self._client = client
        self._prefix = f"{prefix}:queued"
        self.stale_seconds = stale_seconds

    def _key(self, tenant_id: int) -> str:
        return f"{self._prefix}:{tenant_id}"

    def waiting(self, tenant_id: int) -> set[int]:
        """The tenant's connections queued and not yet started (stale entries dropped)."""
        key = self._key(tenant_id)
        self._client.zremrangebyscore(key, "-inf", time.time() - self.stale_seconds)
        return {int(member) for member in self._client.zrange(key, 0, -1)}

    def queued(self, tenant_id: int, connection_id: int) -> None:
        """Note that a task for the connection was queued."""
        self._client.zadd(self._key(tenant_id), {str(connection_id): time.time()})

    def started(self, tenant_id: int, connection_id: int) -> None:
        """Note that the connection's task started (the scheduler may queue it again)."""
        self._client.zrem(self._key(tenant_id), str(connection_id))
