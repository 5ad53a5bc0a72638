"""The views people open with a period and filters of their own (:class:`OpenedView`), which the
worker computes again after each change of the data (``integration.analytics_views``).

The analytics cache keeps an answer until the data it was computed from changes; after a sync,
the first open of each view computed it again, cold. For the page as it first opens the worker
always did that itself; a team's own views (a country, an owner, "last 90 days" of one pipeline)
were left to whoever opened them first, and at a million records a workspace view filtered on
records takes seconds cold. A page notes each view it shows (:func:`note_opened`, one small
upsert); the worker warms the :data:`WARM_AT_MOST` most recently opened of the last
:data:`KEEP_DAYS` days (:func:`recent`), so the views people come back to open from the cache.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Mapping

from sqlalchemy import delete, or_, select
from sqlmodel import Session

from integration.store.bulk import upsert_unless_busy
from integration.store.models import OpenedView
from integration.store.types import utcnow

#: Days a view stays warmed after it was last opened (the analytics cache keeps answers as long).
KEEP_DAYS = 7
#: Views of one connection (or of the workspace) warmed after a change, most recently opened first:
#: what one change may cost the worker is bounded, however many views a team opens.
WARM_AT_MOST = 10
#: How old a view's note must be before opening it again writes a new one.
NOTE_EVERY = timedelta(hours=1)
#: Views a tenant keeps at most (the most recently opened).
KEPT_AT_MOST = 200


def view_key(connection_id: int | None, page: str, args: Mapping[str, str]) -> str:
    """The name of a view within its tenant: its connection (or the workspace), page and arguments."""
    described = json.dumps({"connection": connection_id, "page": page, "args": dict(args)},
                           sort_keys=True)
    return hashlib.sha256(described.encode()).hexdigest()


def note_opened(session: Session, tenant_id: int, connection_id: int | None, page: str,
                args: Mapping[str, str], now: datetime | None = None) -> None:
    """Remember that ``page`` of the connection (None: the workspace) was opened with ``args``
    (its query parameters, as the page's filter bar keeps them), at ``now``; a view noted within
    :data:`NOTE_EVERY` is not written again. The page as it first opens (no arguments) is not
    kept: the worker warms it anyway. Never fails the page: a database busy with a sync's writes
    (SQLite) only costs the note."""
    if not args:
        return
    now, key = now or utcnow(), view_key(connection_id, page, args)
    noted = session.execute(select(OpenedView.opened_at).where(
        OpenedView.tenant_id == tenant_id, OpenedView.key == key)).scalar()
    if noted is not None and noted > now - NOTE_EVERY:
        # a page seen again soon writes nothing: on SQLite each write waits for a sync's commit
        return
    upsert_unless_busy(session, OpenedView, {"tenant_id": tenant_id, "key": key,
                                             "connection_id": connection_id, "page": page,
                                             "args": dict(args), "opened_at": now},
                       ["tenant_id", "key"], {"opened_at": now}, f"opened view of tenant {tenant_id}")


def recent(session: Session, tenant_id: int, connection_id: int | None,
           now: datetime | None = None) -> list[OpenedView]:
    """The views of the connection (None: the workspace's) opened in the last :data:`KEEP_DAYS`
    days, the most recently opened first, at most :data:`WARM_AT_MOST`."""
    since = (now or utcnow()) - timedelta(days=KEEP_DAYS)
    scope = OpenedView.connection_id.is_(None) if connection_id is None else \
        OpenedView.connection_id == connection_id
    return list(session.execute(select(OpenedView).where(
        OpenedView.tenant_id == tenant_id, scope, OpenedView.opened_at >= since)
        .order_by(OpenedView.opened_at.desc(), OpenedView.id.desc()).limit(WARM_AT_MOST)).scalars())


def forget(session: Session, view: OpenedView) -> None:
    """Stop warming a view (its arguments no longer make a view: a period the bar no longer
    takes, a value grown past its limit...)."""
    session.execute(delete(OpenedView).where(OpenedView.id == view.id))


def prune(session: Session, tenant_id: int, now: datetime | None = None) -> int:
    """Forget the tenant's views not opened for :data:`KEEP_DAYS` days, and all but the
    :data:`KEPT_AT_MOST` most recently opened (a script opening endless views keeps no more);
    returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=KEEP_DAYS)
    newest = select(OpenedView.id).where(OpenedView.tenant_id == tenant_id) \
        .order_by(OpenedView.opened_at.desc(), OpenedView.id.desc()).limit(KEPT_AT_MOST)
    return session.execute(delete(OpenedView).where(
        OpenedView.tenant_id == tenant_id,
        or_(OpenedView.opened_at < cutoff, OpenedView.id.not_in(newest.scalar_subquery())))).rowcount
