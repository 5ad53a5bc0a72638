"""Service configuration: every setting comes from an environment variable, read here and only here.

Defaults are safe for a laptop: a SQLite file under ``./var``, a Fernet key generated once into the
data folder (mode 0600) when none is given, the service bound to 127.0.0.1.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping

from cryptography.fernet import Fernet


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}: must be a whole number, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name}: must not be negative, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name}: must be a number, got {raw!r}") from None


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float(env, name, default)
    if value <= 0:
        raise ValueError(f"{name}: must be more than 0, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str = field(default="", repr=False)
    session_secret: str = field(default="", repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    sync_interval_seconds: int = 300
    stall_interval_seconds: int = 3600
    worker_tick_seconds: float = 2.0
    lease_seconds: int = 120
    #: Threads the embedded worker runs connections on, so one slow CRM cannot hold the others.
    worker_threads: int = 4
    #: Longest one sync may run before it stops (the next sync continues where it left off).
    sync_time_limit_seconds: int = 1800
    #: Threads (each with a database connection) a process lends to the reads of a page, which
    #: run side by side (integration/store/side_by_side.py); 0 runs them one after another.
    read_helpers: int = 2
    #: Seconds to open a connection to a CRM, and to wait for each answer, on every CRM call.
    crm_connect_timeout_seconds: float = 10.0
    crm_read_timeout_seconds: float = 60.0
    #: Seconds a CRM may still apply a write after the call's read timeout (its own processing,
    #: its search index catching up) before a new lease holder may ask the CRM what landed.
    in_flight_margin_seconds: float = 30.0
    #: A failing connection waits this long before its next try, doubling per failure, capped.
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    outbox_max_attempts: int = 5
    outbox_backoff_seconds: float = 30.0
    #: How long CRM metadata (object describes, pipelines, stage lists) is reused between syncs.
    metadata_cache_seconds: int = 900
    log_level: str = "INFO"
    #: Redis URL of the task queue (``redis://host:6379/0``); empty runs the embedded worker.
    broker_url: str = ""
    #: Prefix of every Redis key the queue, the scheduler and the shared rate budgets use.
    redis_prefix: str = "journey"
    #: Most connections of one tenant waiting in the queue at once, so a tenant with many
    #: connections cannot push another's work to the back (set it to the total worker slots).
    queue_tenant_share: int = 8
    #: Largest request body accepted (413 past it); a map document is at most 1 MB.
    max_body_bytes: int = 2_000_000
    #: Where the sign-in throttle keeps its counters: memory:// (one process) or redis://host:port.
    rate_limit_storage: str = "memory://"
    #: OAuth apps by CRM name, from JOURNEY_OAUTH_<CRM>_<SETTING> (e.g. JOURNEY_OAUTH_HUBSPOT_CLIENT_ID).
    oauth_apps: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'journey.sqlite3').resolve()}"

    @property
    def base_url(self) -> str:
        """The URL the CRMs and browsers reach the service at (OAuth callbacks, webhooks)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def crm_timeouts(self) -> tuple[float, float]:
        """(connect, read) seconds for every CRM call."""
        return (self.crm_connect_timeout_seconds, self.crm_read_timeout_seconds)

    @property
    def in_flight_seconds(self) -> float:
        """How long after its holder last confirmed it a write batch may still land in the CRM:
        the renewal beat it may have died within, one call's connect and read timeouts, and the
        margin. A new lease holder leaves items ``sending`` that long before settling them."""
        return (self.lease_seconds / 3 + self.crm_connect_timeout_seconds
                + self.crm_read_timeout_seconds + self.in_flight_margin_seconds)

    def with_overrides(self, **changes: object) -> "Settings":
        """A copy with some settings changed (tests, CLI flags)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def environment(self) -> dict[str, str]:
        """The variables that give another ``journey`` process (a worker, the scheduler) the
        same database, keys, queue and timing as these settings."""
        return {name: str(self.resolved_database_url if attr == "database_url" else getattr(self, attr))
                for attr, name in _SHARED_WITH_CHILDREN.items()}


#: Settings -> variable, for :meth:`Settings.environment` (read back by :func:`load_settings`).
_SHARED_WITH_CHILDREN = {
    "data_dir": "JOURNEY_DATA_DIR", "database_url": "JOURNEY_DATABASE_URL",
    "secret_key": "JOURNEY_SECRET_KEY", "session_secret": "JOURNEY_SESSION_SECRET",
    "broker_url": "JOURNEY_BROKER_URL", "redis_prefix": "JOURNEY_REDIS_PREFIX",
    "sync_interval_seconds": "JOURNEY_SYNC_INTERVAL", "stall_interval_seconds": "JOURNEY_STALL_INTERVAL",
    "worker_tick_seconds": "JOURNEY_WORKER_TICK", "lease_seconds": "JOURNEY_LEASE_SECONDS",
    "outbox_backoff_seconds": "JOURNEY_OUTBOX_BACKOFF",
    "crm_connect_timeout_seconds": "JOURNEY_CRM_CONNECT_TIMEOUT",
    "crm_read_timeout_seconds": "JOURNEY_CRM_READ_TIMEOUT",
    "in_flight_margin_seconds": "JOURNEY_IN_FLIGHT_MARGIN",
    "metadata_cache_seconds": "JOURNEY_METADATA_CACHE_SECONDS",
    "queue_tenant_share": "JOURNEY_QUEUE_TENANT_SHARE", "log_level": "JOURNEY_LOG_LEVEL",
}


def _key_file(data_dir: Path, name: str, make: Callable[[], str]) -> str:
    """Read a key kept in the data folder, creating it (mode 0600) on first use."""
    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _oauth_apps(env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    apps: dict[str, dict[str, str]] = {}
    for name, value in env.items():
        if name.startswith("JOURNEY_OAUTH_") and value:
            crm, _, setting = name[len("JOURNEY_OAUTH_"):].partition("_")
            if setting:
                apps.setdefault(crm.lower(), {})[setting.lower()] = value
    return apps


def _broker_url(env: Mapping[str, str]) -> str:
    url = env.get("JOURNEY_BROKER_URL", "").strip()
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("JOURNEY_BROKER_URL: must be a Redis URL (redis://host:6379/0), "
                         f"got one starting {url.split(':', 1)[0]!r}")
    return url


#: Most read helpers: with the request's own, within the ten connections of an engine's pool.
MAX_READ_HELPERS = 8


def _read_helpers(env: Mapping[str, str]) -> int:
    helpers = _int(env, "JOURNEY_READ_HELPERS", 2)
    if helpers > MAX_READ_HELPERS:
        raise ValueError(f"JOURNEY_READ_HELPERS: at most {MAX_READ_HELPERS} (each holds one of the "
                         f"database pool's connections), got {helpers}")
    return helpers


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``env`` (default: ``os.environ``). Raises ValueError on bad values."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("JOURNEY_DATA_DIR", "var"))
    secret_key = env.get("JOURNEY_SECRET_KEY") or _key_file(
        data_dir, "secret.key", lambda: Fernet.generate_key().decode())
    try:
        Fernet(secret_key.encode())
    except ValueError:
        raise ValueError("JOURNEY_SECRET_KEY: must be a Fernet key (32 url-safe base64 bytes)") from None
    session_secret = env.get("JOURNEY_SESSION_SECRET") or _key_file(
        data_dir, "session.key", lambda: os.urandom(32).hex())
    return Settings(
        data_dir=data_dir,
        database_url=env.get("JOURNEY_DATABASE_URL", ""),
        secret_key=secret_key,
        session_secret=session_secret,
        host=env.get("JOURNEY_HOST", "127.0.0.1"),
        port=_int(env, "JOURNEY_PORT", 8000),
        public_url=env.get("JOURNEY_PUBLIC_URL", ""),
        sync_interval_seconds=_int(env, "JOURNEY_SYNC_INTERVAL", 300),
        stall_interval_seconds=_int(env, "JOURNEY_STALL_INTERVAL", 3600),
        worker_tick_seconds=_float(env, "JOURNEY_WORKER_TICK", 2.0),
        lease_seconds=_int(env, "JOURNEY_LEASE_SECONDS", 120),
        worker_threads=max(1, _int(env, "JOURNEY_WORKER_THREADS", 4)),
        sync_time_limit_seconds=_int(env, "JOURNEY_SYNC_TIME_LIMIT", 1800),
        read_helpers=_read_helpers(env),
        crm_connect_timeout_seconds=_positive(env, "JOURNEY_CRM_CONNECT_TIMEOUT", 10.0),
        crm_read_timeout_seconds=_positive(env, "JOURNEY_CRM_READ_TIMEOUT", 60.0),
        in_flight_margin_seconds=max(0.0, _float(env, "JOURNEY_IN_FLIGHT_MARGIN", 30.0)),
        retry_base_seconds=_positive(env, "JOURNEY_RETRY_BASE", 30.0),
        retry_max_seconds=_positive(env, "JOURNEY_RETRY_MAX", 3600.0),
        outbox_max_attempts=_int(env, "JOURNEY_OUTBOX_MAX_ATTEMPTS", 5),
        outbox_backoff_seconds=_float(env, "JOURNEY_OUTBOX_BACKOFF", 30.0),
        metadata_cache_seconds=_int(env, "JOURNEY_METADATA_CACHE_SECONDS", 900),
        log_level=env.get("JOURNEY_LOG_LEVEL", "INFO"),
        broker_url=_broker_url(env),
        redis_prefix=env.get("JOURNEY_REDIS_PREFIX", "journey") or "journey",
        queue_tenant_share=max(1, _int(env, "JOURNEY_QUEUE_TENANT_SHARE", 8)),
        max_body_bytes=_int(env, "JOURNEY_MAX_BODY_BYTES", 2_000_000),
        rate_limit_storage=env.get("JOURNEY_RATE_LIMIT_STORAGE", "memory://"),
        oauth_apps=_oauth_apps(env),
    )
