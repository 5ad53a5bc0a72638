"""Redis and Celery fixtures: the real Redis on 127.0.0.1:6379, real worker processes.

Without a Redis server the queue tests skip with the reason, unless JOURNEY_REQUIRE_REDIS=1 (CI)
makes them fail. Each test module works under its own key prefix (queue names included), so
parallel runs on one Redis never see each other's keys; the keys are deleted afterwards.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import redis

from tests.support import require_or_skip, wait_for

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
                                            worker_tick_seconds=0.5, lease_seconds=8)


class WorkerProcesses:
    """``journey worker`` processes on the module's database and Redis prefix."""

    def __init__(self, settings, log_dir: Path) -> None:
        self.settings = settings
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def start(self, count: int) -> list[subprocess.Popen]:
        env = {**os.environ, "JOURNEY_DATABASE_URL": self.settings.resolved_database_url,
               "JOURNEY_SECRET_KEY": self.settings.secret_key,
               "JOURNEY_SESSION_SECRET": self.settings.session_secret,
               "JOURNEY_DATA_DIR": str(self.settings.data_dir),
               "JOURNEY_BROKER_URL": self.settings.broker_url,
               "JOURNEY_REDIS_PREFIX": self.settings.redis_prefix,
               "JOURNEY_LEASE_SECONDS": str(self.settings.lease_seconds),
               "JOURNEY_OUTBOX_BACKOFF": "0", "JOURNEY_LOG_LEVEL": "INFO"}
        started = []
        for _ in range(count):
            log = open(self.log_dir / f"worker-{len(self.procs)}.log", "w")
            proc = subprocess.Popen(
                [sys.executable, "-m", "integration", "worker", "--pool", "solo",
                 "--concurrency", "1"], env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
            self.procs.append(proc)
            started.append(proc)
        wait_for(lambda: all("ready" in self.log(p) for p in started), timeout=90)
        return started

    def log(self, proc: subprocess.Popen) -> str:
        return (self.log_dir / f"worker-{self.procs.index(proc)}.log").read_text()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def celery_workers(queue_settings, tmp_path_factory) -> Iterator[WorkerProcesses]:
    """Start worker processes with ``celery_workers.start(n)``; all are stopped afterwards."""
    workers = WorkerProcesses(queue_settings, tmp_path_factory.mktemp("workers"))
    yield workers
    workers.stop()
