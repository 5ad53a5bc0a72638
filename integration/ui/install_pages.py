"""Install: connect a CRM (OAuth or a pasted token), then provision its fields and pick the interval."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from sqlalchemy.exc import IntegrityError

from connectors import registry
from integration.api.helpers import services
from integration.connecting import ConnectionRefused, InvalidSettings, connect
from integration.install import InstallError, finish_oauth, oauth_app, start_oauth
from integration.notification_urls import has_own_endpoint, notification_url
from integration.status import connection_status
from integration.ui import bp
from integration.ui.access import page_connection, signed_in

#: Sync interval choices offered on the setup page, in seconds.
INTERVALS = ((300, "Every 5 minutes"), (900, "Every 15 minutes"), (3600, "Every hour"),
             (21600, "Every 6 hours"), (86400, "Once a day"))


def _crm_choices() -> list[dict]:
    """Every CRM the registry knows, with its token form and whether OAuth is ready for it."""
    return [{"spec": spec, "oauth": oauth_app(services(), spec.name) is not None}
            for spec in map(registry.spec, registry.names())]


def _install_page(problems: dict[str, str] | None = None, crm: str | None = None, status: int = 200):
    return render_template("install.html", crms=_crm_choices(), problems=problems or {},
                           failed_crm=crm, form=request.form), status


@bp.get("/install")
@signed_in
def install():
    """Choose a CRM and connect it."""
    return _install_page()


@bp.post("/install/<crm>/token")
@signed_in
def install_token(crm: str):
    """Store a connection from pasted settings (a private-app token, or an integration user's)."""
    if crm not in registry.names():
        return _install_page({"crm": f"unknown CRM {crm!r}"}, crm, 404)
    spec = registry.spec(crm)
    name = request.form.get("name", "").strip()
    values = {s.name: request.form.get(f"setting.{s.name}", "").strip() for s in spec.settings}
    if not name:
        return _install_page({"name": "required"}, crm, 422)
    try:
        with services().session() as db:
            conn_id = connect(db, services(), tenant_id=g.tenant_id, name=name, crm=crm,
                              values=values).id
    except InvalidSettings as exc:
        return _install_page({f"setting.{k}": v for k, v in exc.problems.items()}, crm, 422)
    except ConnectionRefused as exc:
        return _install_page({"connect": str(exc)}, crm,
                             409 if exc.code in ("ALREADY_CONNECTED", "NAME_TAKEN") else 422)
    except IntegrityError:
        return _install_page({"name": f"a connection named {name!r} already exists"}, crm, 409)
    flash(f"Connected {spec.label} as {name!r}.")
    return redirect(url_for("ui.setup", connection_id=conn_id))


@bp.post("/install/<crm>/oauth")
@signed_in
def install_oauth(crm: str):
    """Send the admin to the CRM's consent page."""
    try:
        return redirect(start_oauth(services(), crm, session, name=request.form.get("name", "")))
    except InstallError as exc:
        return _install_page({"oauth": str(exc)}, crm, 400)


@bp.get("/install/<crm>/callback")
@signed_in
def install_callback(crm: str):
    """Where the CRM sends the admin back: finish the install or say what went wrong."""
    if request.args.get("error"):
        return _install_page({"oauth": f"The CRM did not authorize the app: "
                                       f"{request.args.get('error_description') or request.args['error']}"},
                             crm, 400)
    try:
        conn = finish_oauth(services(), crm, request.args.get("code", ""),
                            request.args.get("state", ""), session)
    except InstallError as exc:
        return _install_page({"oauth": str(exc)}, crm, 400)
    flash(f"Connected {registry.spec(crm).label} through OAuth as {conn.name!r}.")
    return redirect(url_for("ui.setup", connection_id=conn.id))


@bp.get("/connections/<int:connection_id>/setup")
@signed_in
def setup(connection_id: int):
    """After connecting: provision the fields, pick the sync interval, run the first sync."""
    with services().session() as db:
        conn = page_connection(db, connection_id)
        status = connection_status(db, conn.id)
        receiver = registry.spec(conn.crm).receiver
        endpoint = ({"url": notification_url(services().settings, conn.crm, conn.id),
                     "steps": receiver.setup_steps} if has_own_endpoint(conn.crm) else None)
        return render_template("setup.html", conn=conn, status=status, intervals=INTERVALS,
                               label=registry.spec(conn.crm).label, endpoint=endpoint)
