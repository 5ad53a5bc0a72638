"""Web sessions kept on the server: the session cookie carries only a random id, and signing out
deletes the row, so a cookie copied before sign-out opens nothing afterwards."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete
from sqlmodel import Session, select

from integration.store.models import WebSession


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_web_session(session: Session, tenant_id: int, user_email: str | None) -> str:
    """Record a new signed-in session; return its id (for the cookie; only its digest is stored)."""
    session_id = secrets.token_urlsafe(32)
    session.add(WebSession(id_hash=_digest(session_id), tenant_id=tenant_id, user_email=user_email))
    session.flush()
    return session_id


def web_session_alive(session: Session, session_id: str) -> bool:
    """Whether ``session_id`` names a session that was started and not ended."""
    return session.exec(select(WebSession.id).where(WebSession.id_hash == _digest(session_id))).first() is not None


def end_web_session(session: Session, session_id: str) -> None:
    """End a session: its cookie, wherever it was copied to, no longer signs anyone in."""
    session.exec(delete(WebSession).where(WebSession.id_hash == _digest(session_id)))

