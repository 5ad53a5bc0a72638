"""Connections from a connector's declared settings: checked against the CRM before they are
stored, one per CRM account and workspace; reconnecting, pausing, and provisioning their fields."""
from __future__ import annotations

from typing import Any, Mapping

from sqlmodel import Session

from connectors import registry
from connectors.base import (ATTEMPTS_SETTING, AccountIdentity, AuthExpired, AuthFailed,
                             ConfigError, CrmError, ProvisionedField, RateLimited, TransientError)
from connectors.plugin import ConnectorSpec
from integration.services import Services
from integration.store.connections import (connection_by_id, connection_config, create_connection,
                                           get_connection, list_connections)
from integration.store.models import Connection
from integration.sync import standing
from integration.sync.map_in_force import connection_map
from mapping import writeback_choices


class InvalidSettings(ValueError):
    """Settings for a connection are missing or unknown; ``problems`` maps setting -> reason."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def split_settings(spec: ConnectorSpec, values: Mapping[str, Any]) -> tuple[dict, dict]:
    """Check ``values`` against the connector's settings model; return (plain, secret) dicts of
    the values given (the model supplies defaults when the connector reads them)."""
    given = {k: v for k, v in values.items() if v not in (None, "")}
    problems = spec.settings_problems(given)
    if problems:
        raise InvalidSettings(problems)
    secret = spec.secret_settings
    return ({k: v for k, v in given.items() if k not in secret},
            {k: v for k, v in given.items() if k in secret})


class ConnectionRefused(ValueError):
    """The CRM refused the settings, could not be reached, or the account is connected already.

    The message says what is wrong in words an admin can act on; ``code`` names the case
    (``CREDENTIALS_REFUSED``, ``CRM_UNREACHABLE``, ``INVALID_SETTINGS``, ``ALREADY_CONNECTED``...).
    """

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def check_credentials(services: Services, crm: str, config: Mapping[str, Any]) -> AccountIdentity:
    """Ask the CRM, with one cheap call, which account ``config`` reaches.

    Raises :class:`ConnectionRefused` saying plainly what is wrong; nothing is stored.
    """
    label = registry.spec(crm).label
    try:
        # One try: an admin is waiting, and a wrong URL should say so now, not after retries.
        return services.connector_for(crm, {**config, ATTEMPTS_SETTING: 1}).identify()
    except (AuthExpired, AuthFailed) as exc:
        raise ConnectionRefused(f"{label} refused the credentials: the token is expired, revoked or "
                                f"wrong, or lacks the permissions needed ({exc.code}).",
                                "CREDENTIALS_REFUSED") from None
    except ConfigError as exc:
        raise ConnectionRefused(f"{label} settings are not valid: {exc.message}",
                                "INVALID_SETTINGS") from None
    except RateLimited:
        raise ConnectionRefused(f"{label} is rate limiting this account right now; try again in a "
                                "minute.", "CRM_RATE_LIMITED") from None
    except TransientError as exc:
        raise ConnectionRefused(f"Could not reach {label} ({exc.code}): check the URL and that "
                                f"{label} is up, then try again.", "CRM_UNREACHABLE") from None
    except CrmError as exc:
        raise ConnectionRefused(f"{label} answered with an error: {exc.message}",
                                "CRM_ERROR") from None


def _refuse_duplicates(session: Session, tenant_id: int, crm: str, identity: AccountIdentity, *,
                       name: str | None = None, keep: int | None = None) -> None:
    """Refuse a second connection to one CRM account, or a second connection of one name."""
    for other in list_connections(session, tenant_id):
        if other.id == keep:
            continue
        if other.crm == crm and other.account_id == identity.account_id:
            raise ConnectionRefused(
                f"{identity.label} ({identity.account_id}) is already connected as "
                f"{other.name!r}; reconnect or delete that connection instead.", "ALREADY_CONNECTED")
        if name is not None and other.name == name:
            raise ConnectionRefused(f"a connection named {name!r} already exists; pick another "
                                    "name.", "NAME_TAKEN")


def connect(session: Session, services: Services, *, tenant_id: int, name: str, crm: str,
            values: Mapping[str, Any], sync_interval_seconds: int | None = None) -> Connection:
    """Check the settings, ask the CRM which account they reach, and store the connection.

    The account id always comes from the CRM. Raises InvalidSettings, ConnectionRefused (refused
    credentials, unreachable CRM, account or name connected already) or KeyError (unknown CRM).
    """
    spec = registry.spec(crm)
    plain, secret = split_settings(spec, values)
    identity = check_credentials(services, crm, {**plain, **secret})
    _refuse_duplicates(session, tenant_id, crm, identity, name=name)
    return create_connection(
        session, services.secret_box, tenant_id=tenant_id, name=name, crm=crm, settings=plain,
        secrets=secret, account_id=identity.account_id,
        sync_interval_seconds=sync_interval_seconds or services.settings.sync_interval_seconds)


def reconnect(services: Services, tenant_id: int, ref: str | int,
              values: Mapping[str, Any]) -> Connection:
    """Give a connection new settings (credentials): ``values`` replace the settings they name,
    the rest are kept. The CRM must confirm they reach the same account; the connection is then
    active again with its failures forgotten. Raises NotFound, InvalidSettings, ConnectionRefused.
    """
    with services.session() as session:
        conn = get_connection(session, tenant_id, ref)
        spec = registry.spec(conn.crm)
        known = {s.name for s in spec.settings}
        current = {k: v for k, v in connection_config(services.secret_box, conn).items() if k in known}
        connection_id, crm, account_id = conn.id, conn.crm, conn.account_id
    merged = {**current, **{k: v for k, v in values.items() if v not in (None, "")}}
    merged.update({k: v for k, v in values.items() if k not in known})  # reported as unknown
    plain, secret = split_settings(spec, merged)
    identity = check_credentials(services, crm, {**plain, **secret})
    if account_id is not None and identity.account_id != account_id:
        raise ConnectionRefused(
            f"These credentials reach {identity.label} ({identity.account_id}), but this connection "
            f"is to account {account_id}. Connect the other account as a new connection.",
            "OTHER_ACCOUNT")
    with services.session() as session:
        _refuse_duplicates(session, tenant_id, crm, identity, keep=connection_id)
        conn = connection_by_id(session, connection_id)
        conn.settings = plain
        conn.secrets = services.secret_box.seal(secret)
        conn.account_id = identity.account_id
        conn.state, conn.state_reason = standing.ACTIVE, None
        standing.note_success(conn)
        session.add(conn)
        session.flush()
        session.expunge(conn)
        return conn


def set_paused(services: Services, tenant_id: int, ref: str | int, paused: bool) -> Connection:
    """Pause a connection (no syncs until resumed) or resume it. A connection that needs
    reconnecting resumes only through :func:`reconnect`. Raises NotFound, ConnectionRefused."""
    with services.session() as session:
        conn = get_connection(session, tenant_id, ref)
        if conn.state == standing.NEEDS_RECONNECT:
            raise ConnectionRefused(f"{conn.name!r} needs reconnecting: give it new credentials "
                                    "to resume it.", "NEEDS_RECONNECT")
        conn.state = standing.PAUSED if paused else standing.ACTIVE
        conn.state_reason = "Paused by an admin." if paused else None
        if not paused:
            standing.note_success(conn)
        session.add(conn)
        session.flush()
        session.expunge(conn)
        return conn


def provision(services: Services, connection_id: int) -> list[ProvisionedField]:
    """Create the write-back fields in the CRM (idempotent), the choice fields holding the
    stages, exits and personas of the connection's map in force."""
    with services.session() as session:
        conn = connection_by_id(session, connection_id)
        jmap, _ = connection_map(session, connection_id)
    return services.open_connector(conn).provision(writeback_choices(jmap))
