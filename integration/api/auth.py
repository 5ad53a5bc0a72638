"""Who is calling: an admin token (``Authorization: Bearer``) or a signed-in web session.

Both resolve to a tenant id; every query the API makes is filtered by it. Session callers must
also send the CSRF token on anything that changes state.
"""
from __future__ import annotations

import hmac
import secrets
from functools import wraps
from typing import Callable

from flask import current_app, g, request, session

from integration.api.errors import ApiError
from integration.store.tenancy import tenant_for_token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token() -> str:
    """This session's CSRF token (made on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def csrf_ok() -> bool:
    """Whether the request carries this session's CSRF token (header or form field)."""
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf") or ""
    return bool(expected) and hmac.compare_digest(sent, expected)


def resolve_tenant() -> int | None:
    """The caller's tenant id, or None when the request is not authenticated."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        services = current_app.extensions["journey"]
        with services.session() as db:
            return tenant_for_token(db, header[7:].strip())
    if "tenant_id" in session:
        if request.method not in SAFE_METHODS and not csrf_ok():
            raise ApiError(403, "CSRF_FAILED", "missing or wrong CSRF token")
        g.user_email = session.get("user_email")
        return session["tenant_id"]
    return None


def require_tenant(view: Callable) -> Callable:
    """Reject unauthenticated calls with 401; set ``g.tenant_id`` for the view."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        tenant_id = resolve_tenant()
        if tenant_id is None:
            raise ApiError(401, "UNAUTHENTICATED", "send 'Authorization: Bearer <admin token>'")
        g.tenant_id = tenant_id
        return view(*args, **kwargs)

    return wrapper
