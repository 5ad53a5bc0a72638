"""Analytics answers kept up to date in the store: computed once per state of a connection's data.

An answer is stored with a *stamp* naming what it was computed from: the newest journey event and
the latest record-state write of the connection (every sync or stall pass that changes a record
rewrites both), the map in force, and the day (stays still open grow a day older each day). A
request whose stamp matches reads the stored answer; any other computes it (in SQL) and replaces
it. Reading the stamp is two index look-ups, so a dashboard seen again before the next change
costs milliseconds whatever the number of records.

Workspace answers (people and deals across every connection) are stamped with every connection's
stamp and the workspace map (:func:`workspace_stamp`): a change in any connection's data or map,
a connection added or removed, or a new workspace map computes them again. They are kept with
the first connection's answers, under keys of their own.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any, Callable

from sqlalchemy import delete, select
from sqlmodel import Session

from integration.analytics import RecordFilter
from integration.store.bulk import upsert_unless_busy
from integration.store.models import AnalyticsCache
from integration.store.records import last_writes
from integration.store.types import utcnow
from mapping import JourneyMap

#: Days an answer stays stored without being computed again.
KEEP_DAYS = 7


def map_digest(jmap: JourneyMap) -> str:
    """A short digest of the map, part of every stamp."""
    return hashlib.sha256(jmap.model_dump_json().encode()).hexdigest()[:16]


def data_stamp(session: Session, connection_id: int, jmap: JourneyMap, today: date) -> str:
    """What the connection's analytics depend on, as one string (see the module docstring)."""
    last_event, last_write = last_writes(session, connection_id)
    return f"{last_event}|{last_write}|{map_digest(jmap)}|{today.isoformat()}"


def workspace_stamp(session: Session, connections: list[tuple[int, JourneyMap]],
                    jmap: JourneyMap, today: date) -> str:
    """What a workspace's analytics depend on: the :func:`data_stamp` of each of its connections
    (id, map in force) and the workspace map ``jmap``, as one string of a bounded length."""
    stamps = "\n".join(f"{cid}={data_stamp(session, cid, cmap, today)}" for cid, cmap in sorted(
        connections, key=lambda pair: pair[0]))
    digest = hashlib.sha256(stamps.encode()).hexdigest()[:32]
    return f"workspace:{digest}|{len(connections)}|{map_digest(jmap)}|{today.isoformat()}"


def _answer_key(name: str, flt: RecordFilter, params: dict[str, Any]) -> str:
    """The key an answer is kept under: a digest of its name, filter and parameters."""
    described = json.dumps({"name": name, "filter": asdict(flt), "params": params},
                           sort_keys=True, default=str)
    return hashlib.sha256(described.encode()).hexdigest()


class CachedAnalytics:
    """The analytics of one connection under one stamp, each answer computed at most once.

    ``stamp`` replaces the connection's own (:func:`data_stamp`) for answers that depend on more
    than its data: the workspace's (:func:`workspace_stamp`)."""

    def __init__(self, session: Session, connection_id: int, jmap: JourneyMap,
                 stamp: str | None = None) -> None:
        self.session, self.connection_id, self.jmap = session, connection_id, jmap
        self.stamp = stamp or data_stamp(session, connection_id, jmap, utcnow().date())

    def get(self, name: str, flt: RecordFilter, compute: Callable[[], Any], *,
            kept_for: timedelta | None = None, **params: Any) -> Any:
        """The answer ``name`` for ``flt`` and ``params``: stored, or ``compute()``d and stored.

        With ``kept_for``, an answer computed under the same map less than that long ago is
        served even if the data changed since (for figures of the past that new data barely
        moves: the caller says so to its readers)."""
        key = _answer_key(name, flt, params)
        found = self._found(key)
        if found is not None and (found.stamp == self.stamp or (
                kept_for is not None and found.computed_at > utcnow() - kept_for
                and found.stamp.split("|")[2] == map_digest(self.jmap))):
            return found.value["answer"]
        return self._put(key, compute())

    def put(self, name: str, flt: RecordFilter, answer: Any, **params: Any) -> Any:
        """Keep ``answer`` (computed for the current stamp) as ``name`` for ``flt`` and
        ``params``; returns it as it is kept, and served from now on."""
        return self._put(_answer_key(name, flt, params), answer)

    def _put(self, key: str, answer: Any) -> Any:
        # JSON round trip: the stored and the fresh answer are the same plain values
        answer = json.loads(json.dumps(answer, default=str))
        self._store(key, answer)
        return answer

    def stored(self, name: str, flt: RecordFilter, **params: Any) -> Any | None:
        """The answer ``name`` for ``flt`` and ``params`` if one is stored under this stamp, else
        None; nothing is computed (for a view that shows a cheaper figure until asked)."""
        found = self._found(_answer_key(name, flt, params))
        return found.value["answer"] if found is not None and found.stamp == self.stamp else None

    def _found(self, key: str) -> Any:
        return self.session.execute(select(
            AnalyticsCache.stamp, AnalyticsCache.value, AnalyticsCache.computed_at).where(
            AnalyticsCache.connection_id == self.connection_id, AnalyticsCache.key == key)).first()

    def _store(self, key: str, answer: Any) -> None:
        values = {"stamp": self.stamp, "value": {"answer": answer}, "computed_at": utcnow()}
        # the answer is served even when it cannot be kept
        upsert_unless_busy(self.session, AnalyticsCache,
                           {"connection_id": self.connection_id, "key": key, **values},
                           ["connection_id", "key"], values,
                           f"analytics answer for connection {self.connection_id}")


def prune(session: Session, connection_id: int, now: datetime | None = None) -> int:
    """Forget the connection's answers computed over :data:`KEEP_DAYS` days ago; returns how many.

    Their stamps name an earlier day, so none would be served again; without this, every view
    ever asked for (old custom periods, filters) would keep its row."""
    cutoff = (now or utcnow()) - timedelta(days=KEEP_DAYS)
    return session.execute(delete(AnalyticsCache).where(
        AnalyticsCache.connection_id == connection_id, AnalyticsCache.computed_at < cutoff)).rowcount
