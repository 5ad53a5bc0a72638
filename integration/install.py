"""The OAuth install flow, for any CRM whose connector declares one (``ConnectorSpec.oauth``).

``start_oauth`` keeps a one-time ``state`` in the Flask session, bound to the tenant, the CRM and
the connection name the admin chose, and returns the CRM's consent URL. ``finish_oauth`` checks
the state the CRM sends back, trades the code for tokens and stores the connection.
"""
from __future__ import annotations

import hmac
import secrets
from typing import Any, MutableMapping

from sqlalchemy.exc import IntegrityError

from connectors import registry
from connectors.base import TIMEOUT_SETTINGS, CrmError
from connectors.plugin import ConnectorSpec
from integration.connecting import ConnectionRefused, InvalidSettings, connect
from integration.services import Services
from integration.store.models import Connection

#: Where the pending install lives in the Flask session.
STATE_KEY = "oauth_install"


class InstallError(ValueError):
    """The install cannot go on; the message says why in words an admin can act on."""


def oauth_app(services: Services, crm: str) -> dict[str, str] | None:
    """The configured OAuth app of ``crm``, or None when the CRM has no OAuth flow or the service
    lacks one of the app settings the flow needs."""
    spec = registry.spec(crm)
    app = services.settings.oauth_apps.get(crm, {})
    if spec.oauth is None or any(not app.get(name) for name in spec.oauth.app_settings):
        return None
    return {**app, **dict(zip(TIMEOUT_SETTINGS, services.settings.crm_timeouts))}


def redirect_uri(services: Services, crm: str) -> str:
    """The callback URL the CRM sends the admin back to."""
    return f"{services.settings.base_url}/install/{crm}/callback"


def _oauth_spec(services: Services, crm: str) -> tuple[ConnectorSpec, dict[str, str]]:
    try:
        spec = registry.spec(crm)
    except KeyError as exc:
        raise InstallError(str(exc.args[0])) from None
    app = oauth_app(services, crm)
    if app is None:
        raise InstallError(f"{spec.label} cannot be connected through OAuth here: the service has "
                           f"no OAuth app configured for it (JOURNEY_OAUTH_{crm.upper()}_*).")
    return spec, app


def start_oauth(services: Services, crm: str, session: MutableMapping[str, Any], *,
                name: str = "") -> str:
    """Remember a fresh state for the signed-in tenant and return the CRM's consent page URL."""
    spec, app = _oauth_spec(services, crm)
    state = secrets.token_urlsafe(32)
    session[STATE_KEY] = {"state": state, "crm": crm, "tenant_id": session["tenant_id"],
                          "name": name.strip() or f"{crm}-{secrets.token_hex(3)}"}
    return spec.oauth.authorize_url(app, redirect_uri(services, crm), state)


def _take_state(crm: str, state: str, session: MutableMapping[str, Any]) -> dict[str, Any]:
    pending = session.pop(STATE_KEY, None)
    if not pending or not state or not hmac.compare_digest(str(pending["state"]), state):
        raise InstallError("This sign-in answer does not belong to an install started here (the "
                           "state does not match, or it was already used). Start the install again.")
    if pending["crm"] != crm or pending["tenant_id"] != session.get("tenant_id"):
        raise InstallError("This sign-in answer belongs to another install. Start the install again.")
    return pending


def finish_oauth(services: Services, crm: str, code: str, state: str,
                 session: MutableMapping[str, Any]) -> Connection:
    """Check the state, trade ``code`` for tokens and store the connection (state is single use)."""
    pending = _take_state(crm, state, session)
    spec, app = _oauth_spec(services, crm)
    if not code:
        raise InstallError(f"{spec.label} sent no authorization code back. Start the install again.")
    try:
        values = dict(spec.oauth.exchange(app, code, redirect_uri(services, crm)))
    except CrmError as exc:
        raise InstallError(f"{spec.label} refused the authorization code ({exc.code}): "
                           f"{exc.message}") from None
    try:
        with services.session() as db:
            conn = connect(db, services, tenant_id=pending["tenant_id"], name=pending["name"],
                           crm=crm, values=values)
            db.expunge(conn)
            return conn
    except ConnectionRefused as exc:
        raise InstallError(str(exc)) from None
    except IntegrityError:
        raise InstallError(f"A connection named {pending['name']!r} already exists; pick another "
                           "name.") from None
    except InvalidSettings as exc:
        raise InstallError(f"{spec.label} answered without everything a connection needs: "
                           f"{exc}") from None
