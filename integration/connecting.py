"""Creating connections from a connector's declared settings, and provisioning their fields."""
from __future__ import annotations

from typing import Any, Mapping

from sqlmodel import Session

from connectors import registry
from connectors.base import ProvisionedField
from connectors.plugin import ConnectorSpec
from integration.services import Services
from integration.store.connections import connection_by_id, create_connection
from integration.store.models import Connection


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


def connect(session: Session, services: Services, *, tenant_id: int, name: str, crm: str,
            values: Mapping[str, Any], sync_interval_seconds: int | None = None,
            account_id: str | None = None) -> Connection:
    """Store a new connection after checking its settings. Raises InvalidSettings or KeyError."""
    spec = registry.spec(crm)
    plain, secret = split_settings(spec, values)
    return create_connection(
        session, services.secret_box, tenant_id=tenant_id, name=name, crm=crm, settings=plain,
        secrets=secret, account_id=account_id,
        sync_interval_seconds=sync_interval_seconds or services.settings.sync_interval_seconds)


def provision(services: Services, connection_id: int) -> list[ProvisionedField]:
    """Create the write-back fields in the CRM (idempotent)."""
    with services.session() as session:
        conn = connection_by_id(session, connection_id)
    return services.open_connector(conn).provision()
