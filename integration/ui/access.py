"""Who is looking at a page: the signed-in session, its tenant, and the connections it may open."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import abort, g, redirect, request, session, url_for

from integration.api.auth import csrf_ok, csrf_token
from integration.api.helpers import services
from integration.store.connections import NotFound, get_connection, list_connections
from integration.store.models import Connection


def signed_in(view: Callable) -> Callable:
    """Send visitors without a session to the sign-in page; check the CSRF token of every POST."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if "tenant_id" not in session:
            return redirect(url_for("ui.sign_in", next=request.full_path.rstrip("?")))
        if request.method == "POST" and not csrf_ok():
            abort(400, "The form is out of date or was not sent by this site; reload the page and try again.")
        g.tenant_id = session["tenant_id"]
        g.user_email = session.get("user_email")
        return view(*args, **kwargs)

    return wrapper


def author() -> str:
    """The name map versions saved from the pages carry: the signed-in user's email."""
    return session.get("user_email") or f"admin-token:tenant-{session['tenant_id']}"


def page_connection(db: Any, connection_id: int) -> Connection:
    """The signed-in tenant's connection ``connection_id``; 404 for anyone else's."""
    try:
        return get_connection(db, g.tenant_id, connection_id)
    except NotFound:
        abort(404, f"There is no connection {connection_id} in your account.")


def page_context() -> dict[str, Any]:
    """What every page's layout needs: the CSRF token, the user and the tenant's connections."""
    if "tenant_id" not in session:
        return {"csrf_token": csrf_token(), "user": None, "nav_connections": []}
    with services().session() as db:
        connections = [{"id": c.id, "name": c.name, "crm": c.crm}
                       for c in list_connections(db, session["tenant_id"])]
    return {"csrf_token": csrf_token(), "user": author(), "nav_connections": connections}
