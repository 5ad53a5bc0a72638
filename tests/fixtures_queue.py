"""Redis and Celery fixtures: the real Redis on 127.0.0.1:6379, real worker processes.

Without a Redis server the queue tests skip with the reason, unless JOURNEY_REQUIRE_REDIS=1 (CI)
makes them fail. Each test module works under its own key prefix (queue names included), so
parallel runs on one Redis never see each other's keys; the keys are deleted afterwards.
"""
from __future__ import annotations

import os
import uuid
from typing import Iterator

import pytest
import redis

from integration.queue.processes import JourneyProcesses
from tests.support import require_or_skip

REDIS_URL = os.environ.get("JOURNEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    """A key prefix of this module's own on the test Redis (skips without a Redis)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        require_or_skip("redis", f"no Redis at {REDIS_URL}: {type(exc).__name__}")
    prefix = f"journey-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    for key in client.scan_iter(f"{prefix}*", count=500):
        client.delete(key)
    client.close()


@pytest.fixture(scope="module")
def queue_settings(services, redis_prefix):
    """The module's service settings pointed at the test Redis, under a prefix of their own for
    each database the module runs on."""
    prefix = f"{redis_prefix}-{uuid.uuid4().hex[:6]}"
    return services.settings.with_overrides(broker_url=REDIS_URL, redis_prefix=prefix,
                                            worker_tick_seconds=0.5, lease_seconds=8,
                                            outbox_backoff_seconds=0.0,
                                            # a write in flight is settled 8/3 + 2 + 5 + 2 s on
                                            crm_connect_timeout_seconds=2.0,
                                            crm_read_timeout_seconds=5.0,
                                            in_flight_margin_seconds=2.0)


@pytest.fixture(scope="module")
def celery_workers(queue_settings, tmp_path_factory) -> Iterator[JourneyProcesses]:
    """Start worker processes with ``celery_workers.start_workers(n)``; all are stopped afterwards."""
    workers = JourneyProcesses(queue_settings, tmp_path_factory.mktemp("workers"))
    yield workers
    workers.stop(timeout=20)
