"""A child ``journey`` process (worker, scheduler) started with ``Settings.environment()`` loads
the same database, keys, queue and timing as its parent."""
from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from integration.config import Settings, load_settings


def test_a_child_process_loads_what_its_parent_shares():
    parent = Settings(data_dir=Path("/srv/journey"), database_url="postgresql+psycopg://db/journey",
                      secret_key=Fernet.generate_key().decode(), session_secret="s" * 32,
                      broker_url="redis://127.0.0.1:6379/3", redis_prefix="bench-1",
                      sync_interval_seconds=86400, stall_interval_seconds=7200,
                      worker_tick_seconds=0.5, lease_seconds=15, outbox_backoff_seconds=0.0,
                      metadata_cache_seconds=60, queue_tenant_share=3, log_level="WARNING")
    child = load_settings(parent.environment())
    shared = ("data_dir", "database_url", "secret_key", "session_secret", "broker_url",
              "redis_prefix", "sync_interval_seconds", "stall_interval_seconds",
              "worker_tick_seconds", "lease_seconds", "outbox_backoff_seconds",
              "metadata_cache_seconds", "queue_tenant_share", "log_level")
    assert {k: getattr(child, k) for k in shared} == {k: getattr(parent, k) for k in shared}


def test_without_a_database_url_the_child_opens_the_parents_sqlite_file(tmp_path):
    parent = Settings(data_dir=tmp_path, secret_key=Fernet.generate_key().decode(),
                      session_secret="x")
    child = load_settings(parent.environment())
    assert child.resolved_database_url == parent.resolved_database_url
    assert child.resolved_database_url.endswith(str(tmp_path / "journey.sqlite3"))


def test_read_helpers_default_to_two_and_stay_within_the_database_pool(tmp_path):
    keys = {"JOURNEY_DATA_DIR": str(tmp_path), "JOURNEY_SECRET_KEY": Fernet.generate_key().decode()}
    assert load_settings(keys).read_helpers == 2
    assert load_settings({**keys, "JOURNEY_READ_HELPERS": "0"}).read_helpers == 0
    with pytest.raises(ValueError, match="JOURNEY_READ_HELPERS: at most 8"):
        load_settings({**keys, "JOURNEY_READ_HELPERS": "9"})
