"""Sign-in and sign-out: a web user with a password, or an admin token; a fresh session either way."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from integration.api.auth import csrf_ok
from integration.api.helpers import services
from integration.map_review import review_reminders
from integration.status import connection_status
from integration.store.connections import list_connections
from integration.store.tenancy import authenticate_user, tenant_for_token
from integration.store.web_sessions import end_web_session, start_web_session
from integration.ui import bp
from integration.ui.access import page_context, signed_in
from integration.web_security import signin_throttle


@bp.context_processor
def _layout():
    return page_context()


@bp.errorhandler(HTTPException)
def _error_page(exc: HTTPException):
    return render_template("error.html", error=exc), exc.code


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never send a freshly signed-in user to another host."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not urlsplit(target).netloc):
        return target
    return url_for("ui.home")


def _check_credentials(form) -> tuple[int | None, str | None]:
    """(tenant id, user email) for a password or an admin token; (None, None) when neither matches."""
    with services().session() as db:
        if form.get("token"):
            return tenant_for_token(db, form["token"].strip()), None
        user = authenticate_user(db, form.get("email", ""), form.get("password", ""))
        return (user.tenant_id, user.email) if user else (None, None)


def _start_session(tenant_id: int, email: str | None) -> None:
    """A fresh cookie naming a new server-side session."""
    session.clear()
    with services().session() as db:
        session["sid"] = start_web_session(db, tenant_id, email)
    session["tenant_id"] = tenant_id
    if email:
        session["user_email"] = email


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Show the sign-in form; on a valid password or admin token start a new session.

    Failed attempts are throttled per account and per client address (429 with Retry-After).
    """
    error, status, headers = None, 200, {}
    if request.method == "POST":
        account, address = request.form.get("email", ""), request.remote_addr or ""
        wait = signin_throttle().retry_after(account, address)
        if not csrf_ok():
            error, status = "The form had expired. Please sign in again.", 401
        elif wait is not None:
            error, status = (f"Too many failed sign-ins. Try again in {max(1, round(wait / 60))} "
                             "minute(s)."), 429
            headers["Retry-After"] = str(wait)
        else:
            tenant_id, email = _check_credentials(request.form)
            if tenant_id is not None:
                _start_session(tenant_id, email)
                return redirect(_safe_next(request.args.get("next")))
            signin_throttle().failed(account, address)
            error, status = "That email and password, or that admin token, did not match an account.", 401
    return render_template("signin.html", error=error, email=request.form.get("email", "")), status, headers


@bp.post("/sign-out")
@signed_in
def sign_out():
    """End the session on the server too: a copy of the cookie opens nothing afterwards."""
    with services().session() as db:
        end_web_session(db, session.get("sid", ""))
    session.clear()
    return redirect(url_for("ui.sign_in"))


@bp.get("/")
@signed_in
def home():
    """The start page: maps due for review, every connection with its health at a glance, and
    where to go next."""
    with services().session() as db:
        rows = [{"conn": c, "status": connection_status(db, c.id)}
                for c in list_connections(db, g.tenant_id)]
        reminders = review_reminders(db, g.tenant_id)
    return render_template("home.html", rows=rows, reminders=reminders)
