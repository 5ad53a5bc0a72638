"""The process-wide context every unit of work receives: settings, database, secrets, connectors.

Built once per process (web app, worker, CLI) and passed down; nothing here is a module global, so
the same functions run unchanged in a web request, the embedded worker, or a task queue.
"""
from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from connectors import registry
from connectors.base import ACCOUNT_SETTING, TIMEOUT_SETTINGS, Connector, MetadataCache
from connectors.plugin import SharedResources
from connectors.ratelimit import RateWindow, SlidingWindow
from integration.config import Settings
from integration.store.connections import connection_config, store_tokens
from integration.store.connector_cache import StoredCache
from integration.store.db import make_engine, session_scope
from integration.store.models import Connection
from integration.store.secrets import SecretBox
from integration.store.side_by_side import SideBySide


class ProcessResources:
    """The :class:`connectors.plugin.SharedResources` of one process (thread-safe): rate windows
    live in this process (``integration.queue.budgets.RedisResources`` shares them through Redis)."""

    def __init__(self) -> None:
        self._objects: dict[str, Any] = {}
        self._lock = threading.RLock()  # re-entrant: a budget's make() asks for its windows

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        """The object kept under ``key``, made by ``make()`` on first use."""
        with self._lock:
            if key not in self._objects:
                self._objects[key] = make()
            return self._objects[key]

    def rate_window(self, key: str, limit: int, window_seconds: float,
                    margin_seconds: float = 0.0) -> RateWindow:
        """An in-process window, one per ``key``."""
        return self.get(f"rate-window:{key}", lambda: SlidingWindow(
            limit, window_seconds, margin_seconds=margin_seconds))


@dataclass
class Services:
    """What a unit of work needs; see :func:`build_services`."""

    settings: Settings
    engine: Engine
    secret_box: SecretBox
    #: Runs a page's independent reads side by side.
    reads: SideBySide
    #: Objects shared by every connector of one CRM account in this process (rate budgets).
    resources: SharedResources = field(default_factory=lambda: ProcessResources())

    def session(self) -> AbstractContextManager[Session]:
        """A session that commits on success."""
        return session_scope(self.engine)

    def open_connector(self, conn: Connection) -> Connector:
        """A connector for ``conn`` whose token refreshes are written back to the store."""
        connection_id = conn.id

        def on_tokens(tokens: dict[str, Any]) -> None:
            with self.session() as session:
                store_tokens(session, self.secret_box, connection_id, tokens)

        cache = StoredCache(self.session, connection_id, self.settings.metadata_cache_seconds)
        config = {**connection_config(self.secret_box, conn), ACCOUNT_SETTING: conn.account_id}
        return self.connector_for(conn.crm, config, on_tokens, cache=cache)

    def connector_for(self, crm: str, config: dict[str, Any],
                      on_tokens: Callable[[dict[str, Any]], None] | None = None,
                      cache: MetadataCache | None = None) -> Connector:
        """A connector of ``crm`` for ``config`` (settings and secrets), with the service's connect
        and read timeouts on every CRM call. Raises ConfigError for settings it rejects."""
        timeouts = dict(zip(TIMEOUT_SETTINGS, self.settings.crm_timeouts))
        return registry.spec(crm).factory({**config, **timeouts}, on_tokens, self.resources,
                                          cache=cache)


def build_services(settings: Settings) -> Services:
    """Connect to the configured database and prepare the secret box."""
    engine = make_engine(settings.resolved_database_url)
    return Services(settings=settings, engine=engine, secret_box=SecretBox(settings.secret_key),
                    reads=SideBySide(engine, settings.read_helpers))
