"""A connection's standing after each sync: a failing one backs off, one whose credentials the CRM
refuses waits for an admin, and a success starts afresh.

The standing lives on the connection row (``state``, ``state_reason``, ``failures``, ``retry_at``),
so it survives restarts and every worker, thread or task sees the same.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlmodel import Session

from connectors import registry
from connectors.actions import Action
from connectors.base import AuthExpired
from integration.config import Settings
from integration.store.models import Connection

ACTIVE, PAUSED, NEEDS_RECONNECT = "active", "paused", "needs_reconnect"

#: Actions of a failure that refreshing the token could not fix: only new credentials from an
#: admin help. (Connectors refresh on their own, a bounded number of times, before a REFRESH_AUTH
#: failure reaches the service.)
REAUTHORIZE = (Action.REAUTHORIZE, Action.REFRESH_AUTH)


def retry_delay(failures: int, base: float, cap: float) -> float:
    """Seconds to wait after ``failures`` failed syncs in a row: ``base`` doubling per failure,
    capped at ``cap``, with jitter (between half and all of it) so failing connections spread out."""
    delay = min(cap, base * 2 ** max(failures - 1, 0))
    return delay * random.uniform(0.5, 1.0)


def reconnect_reason(crm: str, error: BaseException) -> str:
    """Why a connection needs reconnecting, in words an admin can act on (never the raw answer)."""
    label = registry.spec(crm).label
    what = ("the access token expired or was revoked, and it could not be refreshed"
            if isinstance(error, AuthExpired) else
            "the credentials were refused: revoked, wrong, or without the permissions needed")
    return f"{label} refused the connection: {what}. Reconnect it with new credentials to resume syncing."


def note_success(conn: Connection) -> None:
    """A sync finished: forget earlier failures."""
    conn.failures = 0
    conn.retry_at = None


def note_failure(session: Session, conn: Connection, error: BaseException | None,
                 settings: Settings, now: datetime, *, reauthorize: bool) -> None:
    """A sync failed with ``error``: stop when ``reauthorize`` (credentials no refresh can fix),
    else back off."""
    conn.failures += 1
    if reauthorize:
        conn.state = NEEDS_RECONNECT
        conn.state_reason = reconnect_reason(conn.crm, error)
        conn.retry_at = None
    else:
        conn.retry_at = now + timedelta(seconds=retry_delay(
            conn.failures, settings.retry_base_seconds, settings.retry_max_seconds))
    session.add(conn)


def is_due(conn: Connection, now: datetime) -> bool:
    """Whether the worker may work on ``conn`` now: active and not backing off."""
    return conn.state == ACTIVE and (conn.retry_at is None or conn.retry_at <= now)


def describe(conn: Connection) -> dict[str, object]:
    """The standing as the API, pages and CLI show it."""
    if conn.state == NEEDS_RECONNECT:
        text = "Needs reconnecting: " + (conn.state_reason or "the CRM refused the credentials.")
    elif conn.state == PAUSED:
        text = "Paused by an admin: no syncs until it is resumed."
    elif conn.failures:
        text = (f"Failing: {conn.failures} failed sync(s) in a row; the next try is at "
                f"{conn.retry_at:%Y-%m-%d %H:%M:%S} UTC." if conn.retry_at else
                f"Failing: {conn.failures} failed sync(s) in a row.")
    else:
        text = "Active."
    return {"state": conn.state, "reason": conn.state_reason, "failures": conn.failures,
            "retry_at": conn.retry_at, "text": text}
